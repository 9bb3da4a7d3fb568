import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { allocatePort } from "./allocate-port.ts";
import { type HealthState, INITIAL_HEALTH, nextHealth, probeHttp } from "./health.ts";

const thresholds = { healthyThreshold: 2, unhealthyThreshold: 3 };

function run(results: boolean[], from: HealthState = INITIAL_HEALTH): HealthState[] {
  const states: HealthState[] = [];
  let state = from;
  for (const ok of results) {
    state = nextHealth(state, { ok }, thresholds);
    states.push(state);
  }
  return states;
}

describe("nextHealth", () => {
  it("stays unknown until healthyThreshold successes in a row", () => {
    expect(run([true, true]).map((s) => s.status)).toEqual(["unknown", "healthy"]);
  });

  it("stays unknown until unhealthyThreshold failures in a row", () => {
    expect(run([false, false, false]).map((s) => s.status)).toEqual(["unknown", "unknown", "unhealthy"]);
  });

  it("does not flap: a healthy instance survives failures below the threshold", () => {
    const healthy = run([true, true]).at(-1)!;
    const statuses = run([false, false, true, false, false, false], healthy).map((s) => s.status);
    expect(statuses).toEqual(["healthy", "healthy", "healthy", "healthy", "healthy", "unhealthy"]);
  });

  it("an interrupted streak starts over", () => {
    expect(run([true, false, true]).map((s) => s.status)).toEqual(["unknown", "unknown", "unknown"]);
    expect(run([true, false, true]).at(-1)).toMatchObject({
      consecutiveSuccesses: 1,
      consecutiveFailures: 0,
    });
  });

  it("recovers from unhealthy after healthyThreshold successes", () => {
    const unhealthy = run([false, false, false]).at(-1)!;
    expect(run([true, true], unhealthy).map((s) => s.status)).toEqual(["unhealthy", "healthy"]);
  });

  it("with thresholds of 1 follows every probe", () => {
    const one = { healthyThreshold: 1, unhealthyThreshold: 1 };
    const up = nextHealth(INITIAL_HEALTH, { ok: true }, one);
    expect(up.status).toBe("healthy");
    expect(nextHealth(up, { ok: false }, one).status).toBe("unhealthy");
  });
});

describe("probeHttp", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  it("is ok for 2xx and 3xx and names the status", async () => {
    const port = await serve((req, res) => {
      res.statusCode = req.url === "/moved" ? 302 : 204;
      res.end();
    });
    expect(await probeHttp({ port, path: "/healthz", timeoutMs: 1000 })).toMatchObject({
      ok: true,
      status: 204,
    });
    expect(await probeHttp({ port, path: "/moved", timeoutMs: 1000 })).toMatchObject({
      ok: true,
      status: 302,
    });
  });

  it("fails on 4xx and 5xx", async () => {
    const port = await serve((req, res) => {
      res.statusCode = req.url === "/missing" ? 404 : 503;
      res.end();
    });
    expect(await probeHttp({ port, path: "/", timeoutMs: 1000 })).toMatchObject({ ok: false, status: 503 });
    expect(await probeHttp({ port, path: "/missing", timeoutMs: 1000 })).toMatchObject({
      ok: false,
      status: 404,
    });
  });

  it("fails without throwing on a closed port", async () => {
    const port = await allocatePort();
    const result = await probeHttp({ port, timeoutMs: 1000 });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it("gives up on a server that never answers after timeoutMs", async () => {
    const port = await serve(() => {});
    const result = await probeHttp({ port, timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, error: "timed out after 300 ms" });
    expect(result.ms).toBeGreaterThanOrEqual(290);
    expect(result.ms).toBeLessThan(1500);
  });

  it("does not wait for the body of a streaming endpoint", async () => {
    const port = await serve((_req, res) => {
      res.writeHead(200);
      res.write("streaming forever");
    });
    expect(await probeHttp({ port, timeoutMs: 1000 })).toMatchObject({ ok: true, status: 200 });
  });
});

describe("allocatePort", () => {
  it("returns distinct free ports that can be listened on", async () => {
    const ports = await Promise.all([allocatePort(), allocatePort(), allocatePort()]);
    expect(new Set(ports).size).toBe(3);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], "127.0.0.1", resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
