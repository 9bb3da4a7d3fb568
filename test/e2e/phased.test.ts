import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  constantLoad,
  deployWeb,
  failures,
  gantry,
  type RunningGantry,
  up,
  waitUntil,
  webConfig,
  webStatus,
} from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

const phased = `{ type: phased, userKey: { header: x-user-id, cookie: uid }, phases: [
      { name: staff, match: { header: { x-staff: "1" } }, pause: promote },
      { percent: 30, pause: promote } ] }`;

/** The version that answered a GET / with these headers. */
async function versionFor(g: RunningGantry, headers: Record<string, string>): Promise<string> {
  const response = await request(`${g.routerUrl}/`, { headers: { host: "web.localhost", ...headers } });
  await response.body.dump();
  expect(response.statusCode).toBe(200);
  return response.headers["x-demo-version"] as string;
}

describe("phased rollout by user cohorts", () => {
  it("gives the candidate to staff first, then to a sticky share of users, then to everyone", async () => {
    running = await up({ config: webConfig(phased) });
    const g = running;
    expect((await deployWeb(g, "v1")).code).toBe(0);
    const deployed = deployWeb(g, "v2");
    const status = () => webStatus(g);
    const waitingAt = (phase: string) =>
      waitUntil(
        async () => {
          const s = await status();
          return (
            s.rollout?.stepDescription === "wait for `gantry promote`" &&
            JSON.stringify(s.traffic).includes(phase)
          );
        },
        20_000,
        `the rollout to wait after ${phase}`,
      );

    await waitingAt('"staff"');
    expect(await versionFor(g, { "x-staff": "1" })).toBe("v2");
    expect(await versionFor(g, { "X-Staff": "0", "x-user-id": "ann" })).toBe("v1");
    expect(await versionFor(g, {})).toBe("v1");
    const users = Array.from({ length: 150 }, (_, i) => `user-${i}`);
    for (const user of users.slice(0, 30)) expect(await versionFor(g, { "x-user-id": user })).toBe("v1");
    expect((await gantry(g.dataDir, ["status", "web"])).stdout).toContain(
      "traffic v2 for staff (users by header x-user-id or cookie uid); v1 for everyone else",
    );

    expect((await gantry(g.dataDir, ["promote", "web"])).code).toBe(0);
    await waitingAt('"percent":30');
    const first = new Map<string, string>();
    for (const user of users) first.set(user, await versionFor(g, { "x-user-id": user }));
    const share = [...first.values()].filter((v) => v === "v2").length / users.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.45);
    // Each user keeps their version, whether the key comes in the header or the cookie.
    for (const user of users.slice(0, 50)) {
      expect(await versionFor(g, { "x-user-id": user })).toBe(first.get(user));
      expect(await versionFor(g, { cookie: `theme=dark; uid=${user}` })).toBe(first.get(user));
    }
    expect(await versionFor(g, { "x-staff": "1" })).toBe("v2");

    expect((await gantry(g.dataDir, ["promote", "web"])).code).toBe(0);
    expect((await deployed).code).toBe(0);
    for (const user of users.slice(0, 20)) expect(await versionFor(g, { "x-user-id": user })).toBe("v2");
    expect((await status()).traffic).toEqual([{ version: "v2", weight: 100 }]);
  });

  it("judges each phase's users against stable and sends everyone back when the candidate fails them", async () => {
    running = await up({
      config: webConfig(`{ type: phased, phases: [
        { name: staff, match: { header: { x-staff: "1" } }, analysis: 60s },
        { percent: 50, analysis: 60s } ] }`),
    });
    const g = running;
    expect((await deployWeb(g, "v1")).code).toBe(0);
    // A tenth of the requests come from staff; the rest from users without a key.
    const load = constantLoad({
      url: g.routerUrl,
      host: "web.localhost",
      rps: 200,
      headers: (n): Record<string, string> => (n % 10 === 0 ? { "x-staff": "1" } : {}),
    });
    const deployed = await deployWeb(g, "v2", "DEMO_FAIL_RATE=0.3");
    const samples = await load.stop();
    expect(deployed.code).not.toBe(0);
    const v2 = samples.filter((s) => s.version === "v2");
    expect(v2.length).toBeGreaterThan(0);
    expect(v2.at(-1)!.at - v2[0]!.at).toBeLessThan(10_000);
    // Only staff met the candidate: every failure is one of theirs.
    expect(failures(samples).every((s) => s.version === "v2")).toBe(true);
    const { lastRollout, traffic } = await webStatus(g);
    expect(traffic).toEqual([{ version: "v1", weight: 100 }]);
    expect(lastRollout.strategy).toBe("phased");
    expect(lastRollout.failure).toMatch(/^analysis failed: error rate/);
  });

  it("pins a request to a version with a signed ticket, only for those who may deploy", async () => {
    running = await up({ config: webConfig("{ type: canary, steps: [{ pause: promote }] }") });
    const g = running;
    expect((await deployWeb(g, "v1")).code).toBe(0);
    const deployed = deployWeb(g, "v2");
    await waitUntil(
      async () => (await webStatus(g)).rollout?.stepDescription === "wait for `gantry promote`",
      20_000,
      "the canary to wait",
    );
    // The canary has no traffic share, yet a pinned request reaches it.
    const pinned = await gantry(g.dataDir, ["pin", "web", "v2", "--for", "10m", "--reason", "try it"]);
    expect(pinned.code, pinned.stderr).toBe(0);
    const [name, ticket] = pinned.stdout.trim().split(": ") as [string, string];
    expect(name).toBe("X-Gantry-Pin");
    expect(await versionFor(g, { "x-gantry-pin": ticket })).toBe("v2");
    expect(await versionFor(g, {})).toBe("v1");
    expect(await versionFor(g, { "x-gantry-pin": ticket.replace("v2.", "v3.") })).toBe("v1");
    // The app never sees the ticket.
    const echoed = await request(`${g.routerUrl}/headers`, {
      headers: { host: "web.localhost", "x-gantry-pin": ticket },
    });
    const seen = (await echoed.body.json()) as { headers: Record<string, string> };
    expect(echoed.headers["x-demo-version"]).toBe("v2");
    expect(seen.headers["x-gantry-pin"]).toBeUndefined();

    const viewer = (await gantry(g.dataDir, ["tokens", "create", "--role", "viewer"])).stdout.trim();
    const refused = await gantry(g.dataDir, ["pin", "web", "v2"], { GANTRY_TOKEN: viewer });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/deployer/);
    const unknown = await gantry(g.dataDir, ["pin", "web", "v9"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('service "web" has no release "v9"');
    const tooLong = await gantry(g.dataDir, ["pin", "web", "v2", "--for", "3d"]);
    expect(tooLong.stderr).toContain('for "3d" is not a duration of at most 24h');
    const audit = JSON.parse(
      (await gantry(g.dataDir, ["audit", "--action", "service.pinned", "--json"])).stdout,
    );
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ subject: "v2", reason: "try it" });

    expect((await gantry(g.dataDir, ["promote", "web"])).code).toBe(0);
    expect((await deployed).code).toBe(0);
  });
});
