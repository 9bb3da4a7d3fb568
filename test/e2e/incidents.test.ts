import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { constantLoad, demoApp, gantry, type RunningGantry, up, waitUntil, webConfig } from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

const config = webConfig(
  "{ type: rolling, maxSurge: 2, maxUnavailable: 0 }",
  `sli: { interval: 1s, coarse: 10s, fineFor: 5m, retention: 2h }
slos:
  web-availability:
    service: web
    sli: { type: availability }
    objective: 99%
    window: 1h
    alerting:
      burnRates: [{ severity: page, longWindow: 10s, shortWindow: 2s, burnRate: 5 }]
`,
);

type Listed = {
  id: number;
  severity: string;
  status: string;
  source: string;
  title: string;
  postmortemDue: boolean;
  closed: boolean;
};

async function run(g: RunningGantry, args: string[]) {
  const result = await gantry(g.dataDir, args);
  expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

const list = async (g: RunningGantry, ...extra: string[]) =>
  JSON.parse(await run(g, ["incidents", "list", "--all", "--json", ...extra])).incidents as Listed[];

describe("incidents", () => {
  it("opens one when a bad version burns the SLO, with the deploy on its timeline, and resolves it when the errors stop", async () => {
    running = await up({ config });
    const g = running;
    await run(g, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"]);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 100 });
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(await list(g)).toEqual([]);
      await run(g, [
        "deploy",
        "web",
        "--artifact",
        demoApp,
        "--version",
        "v2",
        "--env",
        "DEMO_FAIL_RATE=0.3",
        "--wait",
        "--reason",
        "new pool settings",
      ]);
      await waitUntil(async () => (await list(g)).length > 0, 10_000, "an incident");
      expect(await list(g)).toMatchObject([{ id: 1, severity: "high", status: "triggered", source: "slo" }]);
      await run(g, ["incidents", "ack", "1"]);
      await run(g, ["incidents", "note", "1", "v2", "fails", "a", "third", "of", "requests"]);
      await run(g, ["rollback", "web", "--wait", "--reason", "errors since v2"]);
      await waitUntil(async () => (await list(g))[0]?.status === "resolved", 20_000, "the resolution");
    } finally {
      await load.stop();
    }
    const show = await run(g, ["incidents", "show", "1"]);
    const timeline = show.slice(show.indexOf("timeline:"));
    const order = [
      /change +rollout\.started web v1 → v2 by \S+ — new pool settings/,
      /status +triggered \(high\): SLO web-availability of web: burning \d+\.\dx over 10s and \d+\.\dx over 2s \(above 5x\)/,
      /alert\.fired +SLO web-availability/,
      /status +acknowledged by \S+ after \d+(ms|s)/,
      /note +v2 fails a third of requests/,
      /change +rollback/,
      /alert\.resolved +resolved: SLO web-availability/,
      /status +resolved by slo after \d+(ms|s|m) — every alert of the incident resolved/,
    ];
    let at = 0;
    for (const line of order) {
      const found = timeline.slice(at).search(line);
      expect(found, `${line} after position ${at} in\n${timeline}`).toBeGreaterThanOrEqual(0);
      at += found + 1;
    }
    expect(show).toContain("postmortem: due");
    // A high-severity incident closes only with its postmortem.
    const file = join(mkdtempSync(join(tmpdir(), "gantry-pm-")), "pm.yaml");
    writeFileSync(
      file,
      (await run(g, ["incidents", "postmortem", "--template"])).replace("owner: who", "owner: ana"),
    );
    expect(await run(g, ["incidents", "postmortem", "1", "--file", file])).toBe(
      "postmortem written; incident 1 closed\n",
    );
    expect(await run(g, ["incidents", "list"])).toBe("no incidents\n");
    expect((await list(g, "--search", "pool settings")).map((i) => i.id)).toEqual([1]);
  });

  it("turns a failed rollout and API alerts into incidents that people acknowledge, note and resolve", async () => {
    running = await up({ config });
    const g = running;
    await run(g, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"]);
    const broken = await gantry(g.dataDir, [
      "deploy",
      "web",
      "--artifact",
      demoApp,
      "--version",
      "v2",
      "--env",
      "DEMO_HEALTH_FAIL=1",
      "--wait",
    ]);
    expect(broken.code).not.toBe(0);
    await waitUntil(async () => (await list(g)).length > 0, 10_000, "the rollout incident");
    expect((await list(g))[0]).toMatchObject({ severity: "medium", source: "rollout", status: "triggered" });
    expect((await list(g))[0]!.title).toMatch(/^deploy of web v2 failed: /);
    // The next good rollout resolves it, and a medium incident needs no postmortem.
    await run(g, ["deploy", "web", "--artifact", demoApp, "--version", "v3", "--wait"]);
    await waitUntil(
      async () => (await list(g))[0]?.status === "resolved",
      10_000,
      "resolution by the next rollout",
    );
    expect((await list(g))[0]).toMatchObject({ closed: true, postmortemDue: false });

    expect(
      await run(g, [
        "incidents",
        "trigger",
        "--dedup-key",
        "db",
        "--summary",
        "db primary down",
        "--severity",
        "critical",
      ]),
    ).toBe("opened incident 2 (triggered)\n");
    expect(await run(g, ["incidents", "trigger", "--dedup-key", "db", "--summary", "db primary down"])).toBe(
      "updated incident 2 (triggered)\n",
    );
    expect(await run(g, ["incidents", "ack", "2", "--reason", "on it"])).toBe("incident 2 acknowledged\n");
    const again = await gantry(g.dataDir, ["incidents", "ack", "2"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(
      /incident 2 is acknowledged \(by \S+ at .*\); it can be acknowledged only while triggered \[CONFLICT\]/,
    );
    expect(await run(g, ["incidents", "resolve", "2"])).toBe(
      "incident 2 resolved; it needs a postmortem to close (gantry incidents postmortem --template)\n",
    );
    const bad = join(mkdtempSync(join(tmpdir(), "gantry-pm-")), "pm.yaml");
    writeFileSync(bad, "summary: x\nimpact: y\nactionItems: []\n");
    const refused = await gantry(g.dataDir, ["incidents", "postmortem", "2", "--file", bad]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("rootCause: Invalid input: expected string, received undefined");
    expect(refused.stderr).toContain("actionItems: list at least one action item with its owner");
    expect((await list(g, "--severity", "critical")).map((i) => [i.id, i.status, i.closed])).toEqual([
      [2, "resolved", false],
    ]);
  });
});
