import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { customCheckSpec } from "../config/service-spec.ts";
import {
  CustomChecks,
  judgeResources,
  renderTemplate,
  resourceUse,
  runCheck,
  withinBounds,
} from "./custom-checks.ts";

const context = {
  service: "web",
  rollout: 7,
  baseline: "v1",
  candidate: "v2",
  candidateUrls: async () => [] as string[],
};
const check = (spec: object) => customCheckSpec.parse({ name: "c", ...spec });
const never = new AbortController().signal;

describe("custom checks", () => {
  it("fills the query's placeholders", () => {
    expect(
      renderTemplate(
        'rate(x{service="{{service}}",version="{{ candidate }}"}[1m]) / {{baseline}} {{nope}}',
        context,
      ),
    ).toBe('rate(x{service="web",version="v2"}[1m]) / v1 {{nope}}');
  });

  it("passes a value within its bounds and fails one outside, naming the bound", () => {
    expect(withinBounds(0.2, undefined, 0.3)).toMatchObject({ verdict: "pass", summary: "0.2000 (≤ 0.3)" });
    expect(withinBounds(0.5, undefined, 0.3)).toMatchObject({
      verdict: "fail",
      summary: "0.5000 is above the maximum 0.3",
    });
    expect(withinBounds(2, 5, undefined)).toMatchObject({
      verdict: "fail",
      summary: "2 is below the minimum 5",
    });
  });

  it("runs a command with the rollout's facts in its environment: exit 0 passes, another fails with its output", async () => {
    const ok = await runCheck(
      check({ command: 'test "$GANTRY_CANDIDATE" = v2 && echo fine' }),
      context,
      never,
    );
    expect(ok).toMatchObject({ verdict: "pass", summary: "exit 0: fine" });
    const bad = await runCheck(check({ command: "echo 3 tests failed >&2; exit 3" }), context, never);
    expect(bad).toMatchObject({ verdict: "fail", summary: "exit 3: 3 tests failed" });
    const slow = await runCheck(check({ command: "sleep 5", timeout: "200ms" }), context, never);
    expect(slow.verdict).toBe("error");
  });

  it("asks a webhook, which fails the check by answering {verdict: fail}, and errs when it is down", async () => {
    const bodies: unknown[] = [];
    let answer = '{"verdict":"pass"}';
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        bodies.push(JSON.parse(body));
        res.end(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/judge`;
    try {
      expect((await runCheck(check({ webhook: { url } }), context, never)).verdict).toBe("pass");
      answer = '{"verdict":"fail","reason":"checkout conversions down 30%"}';
      expect(await runCheck(check({ webhook: { url } }), context, never)).toMatchObject({
        verdict: "fail",
        summary: "answered fail: checkout conversions down 30%",
      });
      expect(bodies[0]).toEqual({
        service: "web",
        rollout: 7,
        baseline: "v1",
        candidate: "v2",
        candidateUrls: [],
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect((await runCheck(check({ webhook: { url } }), context, never)).verdict).toBe("error");
  });

  it("probes every candidate instance directly, failing on the first that answers wrong", async () => {
    const servers = await Promise.all(
      ["ok", "broken"].map(async (name) => {
        const server = createServer((_, res) => {
          res.statusCode = name === "ok" ? 200 : 503;
          res.end(`instance ${name}`);
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
      }),
    );
    try {
      const probe = check({ http: { path: "/ready", expectBody: "instance" } });
      const one = { ...context, candidateUrls: async () => [servers[0]!.url] };
      expect(await runCheck(probe, one, never)).toMatchObject({
        verdict: "pass",
        summary: "GET /ready answered 200 on 1 instance(s)",
      });
      const both = { ...context, candidateUrls: async () => servers.map((s) => s.url) };
      expect(await runCheck(probe, both, never)).toMatchObject({
        verdict: "fail",
        summary: `${servers[1]!.url}/ready: status 503, expected 200`,
      });
      expect((await runCheck(probe, context, never)).verdict).toBe("error");
    } finally {
      for (const { server } of servers) await new Promise((r) => server.close(r));
    }
  });

  it("fails the rollout after failureLimit failures or errorLimit errors in a row", async () => {
    const checks = new CustomChecks(
      [
        check({ name: "flaky", command: "exit 1", failureLimit: 2, interval: "700ms" }),
        check({ name: "down", webhook: { url: "http://127.0.0.1:1/" }, errorLimit: 2, interval: "700ms" }),
      ],
      context,
    );
    checks.start();
    try {
      await checks.settle();
      expect(checks.breach()).toBeUndefined();
      await new Promise((r) => setTimeout(r, 1600));
      expect(checks.breach()).toMatch(/^check flaky \(command\) failed: exit 1/);
      expect(checks.results().find((r) => r.name === "down")?.consecutiveErrors).toBeGreaterThanOrEqual(2);
    } finally {
      checks.stop();
    }
  });

  it("refuses a check with no kind or two, and a Prometheus check without bounds", () => {
    expect(customCheckSpec.safeParse({ name: "x" }).success).toBe(false);
    expect(customCheckSpec.safeParse({ name: "x", command: "true", http: { path: "/" } }).success).toBe(
      false,
    );
    const unbounded = customCheckSpec.safeParse({
      name: "x",
      prometheus: { url: "http://p:9090", query: "up" },
    });
    expect(JSON.stringify(unbounded.error?.issues)).toContain("needs min or max");
    expect(customCheckSpec.safeParse({ name: "Bad Name", command: "true" }).success).toBe(false);
  });
});

describe("resources check", () => {
  const sample = (instance: string, cpuSeconds: number, mb: number) => ({
    instance,
    cpuSeconds,
    rssBytes: mb * 1024 * 1024,
  });

  it("turns two readings into cores and MiB per instance, leaving out instances seen only once", () => {
    const before = new Map([["v2", [sample("a", 10, 100)]]]);
    const after = new Map([["v2", [sample("a", 10.5, 120), sample("b", 3, 80)]]]);
    expect(resourceUse(before, after, 1).get("v2")).toEqual({ cpu: [0.5], memoryMb: [120, 80] });
  });

  it("fails on a ceiling, or on CPU well above the baseline's, and ignores ratios of idle noise", () => {
    const limits = { maxCpu: 0.8, maxMemoryMb: 256, maxCpuRatio: 2 };
    expect(judgeResources(limits, { cpu: [0.9], memoryMb: [50] }, undefined).summary).toContain(
      "CPU above 0.8 cores",
    );
    expect(judgeResources(limits, { cpu: [0.1], memoryMb: [300] }, undefined).summary).toContain(
      "memory above 256 MiB",
    );
    expect(
      judgeResources(limits, { cpu: [0.5], memoryMb: [50] }, { cpu: [0.2], memoryMb: [50] }),
    ).toMatchObject({
      verdict: "fail",
      value: 2.5,
    });
    // 0.04 against 0.01 cores is 4x, but both are idle.
    expect(
      judgeResources(limits, { cpu: [0.04], memoryMb: [50] }, { cpu: [0.01], memoryMb: [50] }).verdict,
    ).toBe("pass");
    expect(judgeResources(limits, undefined, undefined).verdict).toBe("error");
  });
});
