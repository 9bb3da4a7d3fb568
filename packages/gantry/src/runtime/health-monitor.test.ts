import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { allocatePort } from "./allocate-port.ts";
import type { HealthStatus } from "./health.ts";
import { HealthMonitor } from "./health-monitor.ts";

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(null)));
  server = null;
});

/** A server whose /healthz answers 200 or 503 depending on a switch. */
async function switchableServer(): Promise<{ port: number; setHealthy(value: boolean): void }> {
  let healthy = true;
  server = createServer((_req, res) => {
    res.statusCode = healthy ? 200 : 503;
    res.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, setHealthy: (value) => (healthy = value) };
}

function monitorRecording(changes: [string, HealthStatus][], intervalMs = 20) {
  return new HealthMonitor({
    intervalMs,
    timeoutMs: 500,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    onChange: (id, status) => changes.push([id, status]),
  });
}

describe("HealthMonitor", () => {
  it("reports each change once, after the thresholds, per instance", async () => {
    const app = await switchableServer();
    const closedPort = await allocatePort();
    const changes: [string, HealthStatus][] = [];
    const monitor = monitorRecording(changes);
    monitor.watch({ instanceId: "up", port: app.port, path: "/healthz" });
    monitor.watch({ instanceId: "down", port: closedPort, path: "/healthz" });

    await monitor.probeAll();
    expect(changes).toEqual([]);
    await monitor.probeAll();
    // Probes run in parallel, so the two changes may come in either order.
    expect([...changes].sort()).toEqual([
      ["down", "unhealthy"],
      ["up", "healthy"],
    ]);

    app.setHealthy(false);
    await monitor.probeAll();
    await monitor.probeAll();
    await monitor.probeAll();
    expect(changes.at(-1)).toEqual(["up", "unhealthy"]);
    expect(changes).toHaveLength(3);
    expect(monitor.lastProbe("up")).toMatchObject({ ok: false, status: 503 });
  });

  it("when started, probes on its own and lets a rollout wait for readiness", async () => {
    const app = await switchableServer();
    const changes: [string, HealthStatus][] = [];
    const monitor = monitorRecording(changes);
    monitor.watch({ instanceId: "a", port: app.port, path: "/" });
    monitor.start();
    try {
      expect(await monitor.waitFor("a", "healthy", 2_000)).toBe(true);
      app.setHealthy(false);
      expect(await monitor.waitFor("a", "unhealthy", 2_000)).toBe(true);
      expect(await monitor.waitFor("a", "healthy", 200)).toBe(false);
    } finally {
      monitor.stop();
    }
    expect(changes).toEqual([
      ["a", "healthy"],
      ["a", "unhealthy"],
    ]);
  });

  it("keeps an adopted instance seeded as healthy in rotation until probes fail", async () => {
    const app = await switchableServer();
    const changes: [string, HealthStatus][] = [];
    const monitor = monitorRecording(changes);
    monitor.watch({ instanceId: "adopted", port: app.port, path: "/" }, "healthy");
    expect(monitor.status("adopted")).toBe("healthy");
    await monitor.probeAll();
    await monitor.probeAll();
    expect(changes).toEqual([]);
    app.setHealthy(false);
    await monitor.probeAll();
    await monitor.probeAll();
    expect(changes).toEqual([["adopted", "unhealthy"]]);
  });

  it("forgets an unwatched instance, even with a probe in flight", async () => {
    let release: () => void = () => {};
    const changes: [string, HealthStatus][] = [];
    const monitor = new HealthMonitor({
      intervalMs: 10,
      timeoutMs: 100,
      healthyThreshold: 1,
      unhealthyThreshold: 1,
      onChange: (id, status) => changes.push([id, status]),
      probe: () => new Promise((resolve) => (release = () => resolve({ ok: true, ms: 1 }))),
    });
    monitor.watch({ instanceId: "gone", port: 1, path: "/" });
    const round = monitor.probeAll();
    monitor.unwatch("gone");
    release();
    await round;
    expect(changes).toEqual([]);
    expect(monitor.status("gone")).toBeUndefined();
  });
});
