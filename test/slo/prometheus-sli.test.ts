import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../packages/gantry/src/config/index.ts";
import {
  fineTier,
  type PrometheusSliStatus,
  PrometheusSlis,
  prometheusSliService,
  SliStore,
  SloCatalog,
  SloEngine,
  type SloStatus,
} from "../../packages/gantry/src/slo/index.ts";
import { openSqliteStore, type Store } from "../../packages/gantry/src/store/index.ts";
import { freePort, sleep, waitUntil } from "../e2e/harness.ts";
import {
  type CounterExporter,
  counterExporter,
  requirePrometheus,
  startPrometheus,
  steadyTraffic,
  stopAllPrometheus,
  type TestPrometheus,
} from "../prometheus.ts";

// SLOs over counters a tiny exporter serves, scraped every 250 ms by a real Prometheus, read by
// the SLO engine on a real clock (Prometheus' time is the wall clock).
const ok = 'requests_total{code="200"}';
const failed = 'requests_total{code="500"}';

let exporter: CounterExporter;
let prometheus: TestPrometheus;
let traffic: NodeJS.Timeout;
let errorShare = 0;
const stores: Store[] = [];

beforeAll(async () => {
  requirePrometheus();
  exporter = await counterExporter([ok, failed]);
  // 400 requests a second; `errorShare` of them fail.
  traffic = steadyTraffic(exporter, { ok, failed, perSecond: 400, errorShare: () => errorShare });
  prometheus = await startPrometheus({
    jobs: ["api"],
    scrapeInterval: "250ms",
    scrapeConfigs: `  - job_name: api\n    static_configs: [{ targets: ["${exporter.target}"] }]\n`,
  });
});
afterEach(async () => {
  prometheus.resume();
  for (const s of stores.splice(0)) await s.close();
  errorShare = 0;
});
afterAll(async () => {
  await stopAllPrometheus();
  clearInterval(traffic);
  await exporter.close();
});

async function gantry(url: string, sli: string) {
  const config = parseConfigText(
    `services: { api: { command: x } }
sli: { interval: 500ms, coarse: 2s, fineFor: 1m, retention: 10m }
slos:
  api-availability:
    service: api
    sli: { type: ratio, prometheus: { url: "${url}", ${sli} } }
    objective: 99%
    window: 1m
    alerting:
      burnRates: [{ severity: page, longWindow: 4s, shortWindow: 1s, burnRate: 5 }]
`,
    "gantry.yaml",
  );
  const store = await openSqliteStore(join(mkdtempSync(join(tmpdir(), "gantry-promsli-")), "gantry.db"));
  stores.push(store);
  const now = () => new Date();
  const catalog = new SloCatalog(store.db, now);
  await catalog.syncFromConfig(config.slos);
  const sliStore = new SliStore(store.db, config.sli);
  const engine = () =>
    new SloEngine({
      catalog,
      store: sliStore,
      now,
      prometheus: new PrometheusSlis({ store: sliStore, timeout: 2000 }),
    });
  return { sliStore, engine };
}

const status = (engine: SloEngine): SloStatus => engine.evaluate("api-availability")[0]!;

function reading(engine: SloEngine): PrometheusSliStatus {
  const source = status(engine).sliSource;
  if (source.kind !== "prometheus") throw new Error("not an SLI read from Prometheus");
  return source;
}

/**
 * Collects every half second (the SLI interval) until `done` or `ms` pass, rolling fine
 * points up as the router's SLI recorder does in `gantry up`.
 */
async function collectUntil(
  g: { sliStore: SliStore },
  engine: SloEngine,
  done: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  await waitUntil(
    async () => {
      await engine.collect();
      await g.sliStore.maintain(Date.now());
      if (await done()) return true;
      await sleep(400);
      return false;
    },
    ms,
    what,
  );
}

describe("SLIs read from Prometheus", () => {
  it("backfills the window at start, counts each interval, burns the budget on errors and pages", async () => {
    await sleep(3000); // history for the backfill
    const g = await gantry(prometheus.url, `bad: 'sum(${failed})', total: 'sum(requests_total)'`);
    const engine = g.engine();
    await engine.load();
    const first = status(engine);
    // Seconds of 400 requests a second, from Prometheus' history, before any interval was read.
    expect(first.budget.total).toBeGreaterThan(400);
    expect(first.budget.bad).toBe(0);
    expect(first.sliSource).toMatchObject({ kind: "prometheus", url: prometheus.url, ok: true, error: null });
    expect(first.severity).toBeNull();

    await collectUntil(
      g,
      engine,
      async () =>
        (await g.sliStore.points({ service: prometheusSliService, tier: fineTier, from: 0 })).length >= 3,
      5000,
      "intervals",
    );
    expect(status(engine).budget.total).toBeGreaterThan(first.budget.total + 400);
    const stored = await g.sliStore.points({ service: prometheusSliService, tier: fineTier, from: 0 });
    expect(stored.every((p) => p.errors === 0)).toBe(true);

    errorShare = 0.5;
    await collectUntil(g, engine, () => status(engine).severity === "page", 8000, "the page alert");
    const burning = status(engine);
    expect(burning.burnRates.rules[0]!.firing).toBe(true);
    expect(burning.burnRates.rules[0]!.longBurnRate).toBeGreaterThan(5);
    expect(burning.burnRates.rules[0]!.shortBurnRate).toBeGreaterThan(5);
    expect(burning.budget.remaining).toBeLessThan(1);
  });

  it("keeps its data and shows the error while Prometheus is away, and catches up when it returns", async () => {
    const g = await gantry(prometheus.url, `good: 'sum(${ok})', total: 'sum(requests_total)'`);
    const engine = g.engine();
    await engine.load();
    await engine.collect();
    // From here every point is an interval read live (the backfill reached a coarse boundary).
    const served = () => exporter.value(ok) + exporter.value(failed);
    const [servedBefore, countedBefore] = [served(), status(engine).budget.total];
    await collectUntil(g, engine, () => status(engine).budget.total > countedBefore + 400, 5000, "intervals");

    // Stopped (SIGSTOP), Prometheus neither answers nor scrapes; each read gives up after 2 s.
    prometheus.pause();
    await engine.collect();
    const away = status(engine);
    expect(away.sliSource).toMatchObject({ kind: "prometheus", ok: false });
    expect(reading(engine).error).toBe(`Prometheus at ${prometheus.url} did not answer within 2s`);
    expect(reading(engine).failingSince).toBeGreaterThan(0);
    const kept = await g.sliStore.count();
    await engine.collect();
    // No point is made up while it is away; the data read before stays.
    expect(await g.sliStore.count()).toBe(kept);
    expect(status(engine).budget.total).toBeCloseTo(away.budget.total, -2);

    prometheus.resume();
    await collectUntil(g, engine, () => reading(engine).ok, 5000, "recovery");
    await collectUntil(
      g,
      engine,
      () => status(engine).budget.total > away.budget.total + 400,
      5000,
      "intervals again",
    );
    expect(await g.sliStore.count()).toBeGreaterThan(kept);
    // The requests served while it was away are counted once it is back (within Prometheus' lag).
    const counted = status(engine).budget.total - countedBefore;
    expect(counted / (served() - servedBefore)).toBeGreaterThan(0.85);
    expect(counted / (served() - servedBefore)).toBeLessThan(1.15);

    // A restarted Gantry rebuilds the series from the store and fills only the time it was away.
    const before = status(engine).budget.total;
    const restarted = g.engine();
    await restarted.load();
    expect(status(restarted).budget.total).toBeGreaterThanOrEqual(before * 0.95);
  });

  it("starts without Prometheus: the SLO says why it has no data, and nothing crashes", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const g = await gantry(url, `bad: 'sum(${failed})', total: 'sum(requests_total)'`);
    const engine = g.engine();
    await engine.load();
    await engine.collect();
    const s = status(engine);
    expect(s.budget.total).toBe(0);
    expect(s.sliSource).toMatchObject({ kind: "prometheus", ok: false, lastReadAt: null });
    expect(s.sliSource.kind === "prometheus" && s.sliSource.error).toContain(
      `cannot reach Prometheus at ${url}: connect ECONNREFUSED`,
    );
    expect(await g.sliStore.count()).toBe(0);
  });
});
