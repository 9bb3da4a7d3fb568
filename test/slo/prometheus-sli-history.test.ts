import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../packages/gantry/src/config/index.ts";
import {
  coarseTier,
  fineTier,
  PrometheusSlis,
  prometheusSliService,
  SliStore,
  SloCatalog,
  SloEngine,
} from "../../packages/gantry/src/slo/index.ts";
import { openSqliteStore } from "../../packages/gantry/src/store/index.ts";
import { requirePrometheus, startPrometheus, stopAllPrometheus, type TestPrometheus } from "../prometheus.ts";

// A real Prometheus loaded with 40 minutes of known history (promtool tsdb create-blocks-from),
// read by the SLO engine on an injected clock: what is filled in, and where, is exact.
const minute = 60_000;
const T = Math.floor(Date.now() / minute) * minute - 10 * minute;

/**
 * Counters sampled every 10 s from T-40m to T: 10 requests a second; from T-15m to T-10m one
 * in ten fails; at T-3m the good counter resets (its process restarted).
 */
function history(): string {
  const ok: string[] = [];
  const failed: string[] = [];
  let good = 0;
  let bad = 0;
  for (let t = T - 40 * minute; t <= T; t += 10_000) {
    const failing = t > T - 15 * minute && t <= T - 10 * minute;
    good = t === T - 3 * minute ? 100 : good + (failing ? 90 : 100);
    bad += failing ? 10 : 0;
    ok.push(`requests_total{code="200"} ${good} ${t / 1000}`);
    failed.push(`requests_total{code="500"} ${bad} ${t / 1000}`);
  }
  return `# TYPE requests counter\n${ok.join("\n")}\n${failed.join("\n")}\n# EOF\n`;
}

let prometheus: TestPrometheus;
beforeAll(async () => {
  requirePrometheus();
  prometheus = await startPrometheus({ history: history() });
});
afterAll(stopAllPrometheus);

describe("the history of an SLI read from Prometheus", () => {
  it("is filled at start and after a stop, in whole coarse buckets and exact parts of one", async () => {
    const config = parseConfigText(
      `services: { api: { command: x } }
sli: { interval: 10s, coarse: 1m, fineFor: 10m, retention: 1h }
slos:
  api-availability:
    service: api
    sli: { type: ratio, prometheus: { url: "${prometheus.url}", bad: 'sum(requests_total{code="500"})', total: 'sum(requests_total)' } }
    objective: 99%
    window: 20m
    alerting: { burnRates: none }
`,
      "gantry.yaml",
    );
    const store = await openSqliteStore(join(mkdtempSync(join(tmpdir(), "gantry-promsli-")), "gantry.db"));
    let now = T - 8 * minute;
    const clock = () => new Date(now);
    const catalog = new SloCatalog(store.db, clock);
    await catalog.syncFromConfig(config.slos);
    const sliStore = new SliStore(store.db, config.sli);
    const engine = () =>
      new SloEngine({
        catalog,
        store: sliStore,
        now: clock,
        prometheus: new PrometheusSlis({ store: sliStore }),
      });
    const points = async (tier: number) =>
      (await sliStore.points({ service: prometheusSliService, tier, from: 0 })).map((p) => [
        (p.at - T) / 1000,
        p.span / 1000,
        Math.round(p.requests),
        Math.round(p.errors),
      ]);
    try {
      // A first start at T-8m: the 20-minute window is filled from query_range, a coarse bucket a point.
      const first = engine();
      await first.load();
      expect(await points(coarseTier)).toHaveLength(20);
      let budget = first.evaluate()[0]!.budget;
      expect(budget.total).toBeCloseTo(12_000, -1);
      expect(budget.bad).toBeCloseTo(300, -1);
      // Then intervals read live, and Gantry stops 25 s into a coarse bucket.
      for (const step of [10_000, 10_000, 5000]) {
        now += step;
        await first.collect();
        await sliStore.maintain(now);
      }
      expect(await points(fineTier)).toEqual([
        [-470, 10, 100, 0],
        [-460, 10, 100, 0],
        [-455, 5, 0, 0],
      ]);

      // Started again at T: the rest of that bucket from the counters at its two ends (exact),
      // the buckets after from query_range; the counter reset at T-3m is no drop.
      now = T;
      const second = engine();
      await second.load();
      expect(await points(fineTier)).toEqual([
        [-470, 10, 100, 0],
        [-460, 10, 100, 0],
        [-455, 5, 0, 0],
        [-420, 35, 400, 0],
        ...[-360, -300, -240, -180, -120, -60, 0].map((at) => [at, 60, 600, 0]),
      ]);
      budget = second.evaluate()[0]!.budget;
      expect(budget.total).toBeCloseTo(12_000, -1);
      expect(budget.bad).toBeCloseTo(300, -1);
      expect(second.evaluate()[0]!.sliSource).toMatchObject({ ok: true, error: null });
    } finally {
      await store.close();
    }
  });
});
