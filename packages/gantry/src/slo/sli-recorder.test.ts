import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../config/index.ts";
import { RouterMetrics } from "../router/router-metrics.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { coarseTier, fineTier, SliRecorder, SliStore, SloCatalog, SloEngine } from "./index.ts";

const t0 = Date.parse("2026-05-04T10:00:00Z");
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setup(sli: string, slos = "") {
  const config = parseConfigText(`sli: ${sli}\n${slos}`, "gantry.yaml");
  const path = join(mkdtempSync(join(tmpdir(), "gantry-sli-")), "gantry.db");
  const store = await openSqliteStore(path);
  stores.push(store);
  let now = t0;
  const clock = () => new Date(now);
  const router = new RouterMetrics();
  const sliStore = new SliStore(store.db, config.sli);
  const usage = [{ id: "web-v1-1", service: "web", version: "v1", cpuSeconds: 1, rssBytes: 50e6 }];
  const recorder = new SliRecorder({
    store: sliStore,
    routerMetrics: () => router.text(),
    instanceUsage: async () => usage,
    now: clock,
  });
  const catalog = new SloCatalog(store.db, clock);
  await catalog.syncFromConfig(config.slos);
  return {
    path,
    config,
    store,
    sliStore,
    router,
    recorder,
    catalog,
    usage,
    clock,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

/** Serves `n` requests of `version` through the real router metrics, `bad` of them 5xx, each `ms` long. */
function serve(router: RouterMetrics, version: string, n: number, bad = 0, ms = 20) {
  for (let i = 0; i < n; i++) router.record("web", version, i < bad ? 503 : 200, ms / 1000);
}

describe("SLI recorder and store", () => {
  it("stores what each version served per interval, with CPU and memory, after a baseline", async () => {
    const s = await setup("{ interval: 1s, coarse: 10s, fineFor: 1m, retention: 10m, maxRows: 1000 }");
    serve(s.router, "v1", 50);
    expect(await s.recorder.tick()).toEqual([]); // baseline
    s.advance(1000);
    serve(s.router, "v1", 10, 2, 300);
    serve(s.router, "v2", 5);
    s.usage[0]!.cpuSeconds = 1.25;
    const samples = await s.recorder.tick();
    expect(samples.map((x) => [x.version, x.requests, x.errors, x.span, x.cpuSeconds])).toEqual([
      ["v1", 10, 2, 1000, 0.25],
      ["v2", 5, 0, 1000, null],
    ]);
    expect([...samples[0]!.latency]).toEqual([[500, 10]]);
    const stored = await s.sliStore.points({ service: "web", tier: fineTier, from: 0 });
    expect(stored.map((p) => [p.version, p.at - t0, p.requests, p.rssBytes])).toEqual([
      ["v1", 1000, 10, 50e6],
      ["v2", 1000, 5, null],
    ]);
  });

  it("sums fine points into coarse ones, drops old points, and keeps to the row budget", async () => {
    const s = await setup("{ interval: 1s, coarse: 10s, fineFor: 20s, retention: 1m, maxRows: 1000 }");
    await s.recorder.tick();
    for (let i = 0; i < 45; i++) {
      s.advance(1000);
      serve(s.router, "v1", 4, 1);
      await s.recorder.tick();
    }
    // t0 + 45 s: coarse buckets through t0 + 40 s, fine points of the last 20 s (and all not yet rolled).
    const coarse = await s.sliStore.points({ service: "web", tier: coarseTier, from: 0 });
    expect(coarse.map((p) => [p.at - t0, p.requests, p.errors, p.span])).toEqual([
      [10_000, 40, 10, 10_000],
      [20_000, 40, 10, 10_000],
      [30_000, 40, 10, 10_000],
      [40_000, 40, 10, 10_000],
    ]);
    const fine = await s.sliStore.points({ service: "web", tier: fineTier, from: 0 });
    expect(fine[0]!.at - t0).toBe(21_000);
    expect(fine.at(-1)!.at - t0).toBe(45_000);
    // Past the retention, coarse points go too.
    s.advance(120_000);
    await s.sliStore.maintain(s.now());
    expect(await s.sliStore.points({ service: "web", tier: coarseTier, from: 0 })).toEqual([]);
  });

  it("drops the oldest coarse rows first when the row budget is full", async () => {
    const s = await setup("{ interval: 1s, coarse: 1s, fineFor: 1s, retention: 1h, maxRows: 1000 }");
    await s.recorder.tick();
    for (let i = 0; i < 30; i++) {
      s.advance(1000);
      for (let v = 0; v < 40; v++) serve(s.router, `v${v}`, 1);
      await s.recorder.tick();
    }
    const report = await s.sliStore.maintain(s.now() + 1000);
    expect(report.rows).toBeLessThanOrEqual(1000);
    expect(await s.sliStore.count()).toBe(report.rows);
    const coarse = await s.sliStore.points({ service: "web", tier: coarseTier, from: 0 });
    // The newest seconds survive; the first ones went.
    expect(coarse.at(-1)!.at - t0).toBe(30_000);
    expect(coarse[0]!.at - t0).toBeGreaterThan(1000);
  });
});

describe("SLO engine", () => {
  const slos = `services:\n  web: { command: x }\nslos:
  web-availability:
    service: web
    sli: { type: availability }
    objective: 0.99
    window: 10m
    sla: { objective: 0.98 }
    alerting:
      burnRates: [{ severity: page, longWindow: 20s, shortWindow: 5s, burnRate: 10 }]
  web-latency:
    service: web
    sli: { type: latency, threshold: 100ms, version: v2 }
    objective: 0.9
    window: 10m
    alerting: { burnRates: none }
`;

  it("evaluates budgets and burn rates from what the recorder stores, and again after a restart", async () => {
    const s = await setup("{ interval: 1s, coarse: 10s, fineFor: 1m, retention: 10m, maxRows: 1000 }", slos);
    const engine = new SloEngine({ catalog: s.catalog, store: s.sliStore, now: s.clock });
    await engine.load();
    s.recorder.onSamples((samples) => engine.record(samples));
    await s.recorder.tick();
    for (let i = 0; i < 30; i++) {
      s.advance(1000);
      serve(s.router, "v1", 100);
      serve(s.router, "v2", 10, 0, 50);
      await s.recorder.tick();
    }
    let [availability, latency] = engine.evaluate();
    expect(availability!.severity).toBeNull();
    expect(availability!.budget).toMatchObject({ total: 3300, bad: 0, remaining: 1 });
    expect(latency!.budget).toMatchObject({ total: 300, bad: 0 });
    // v1 fails half its requests for 6 s: 300 bad of the last 20 s' 2200 (13.6x) and 250 of the last 5 s' 550 (45x).
    for (let i = 0; i < 6; i++) {
      s.advance(1000);
      serve(s.router, "v1", 100, 50);
      serve(s.router, "v2", 10, 0, 500);
      await s.recorder.tick();
    }
    [availability, latency] = engine.evaluate();
    expect(availability!.severity).toBe("page");
    expect(availability!.budget.bad).toBe(300);
    expect(availability!.budget.consumed).toBeCloseTo(300 / (0.01 * 3960), 9);
    expect(availability!.sla!.consumed).toBeCloseTo(300 / (0.02 * 3960), 9);
    expect(latency!.budget).toMatchObject({ total: 360, bad: 60 });
    // A new engine (a restarted control plane) rebuilds the same figures from the store.
    const restarted = new SloEngine({ catalog: s.catalog, store: s.sliStore, now: s.clock });
    await restarted.load();
    const [again] = restarted.evaluate();
    expect(again!.budget).toEqual(availability!.budget);
    expect(again!.severity).toBe("page");
  });
});
