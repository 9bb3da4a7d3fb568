import type { Logger } from "pino";
import type { SliSpec, SloSpec } from "../config/index.ts";
import {
  type BurnRateAlerts,
  burnRateAlerts,
  type ThresholdEvaluation,
  thresholdAlert,
} from "./burn-rate.ts";
import { type ErrorBudget, errorBudget } from "./error-budget.ts";
import { coarseTier, fineTier, type SliSample, type SliStore } from "./sli-store.ts";
import type { SloCatalog, SloSource } from "./slo-catalog.ts";
import { TieredSliSeries } from "./tiered-sli-series.ts";

export interface SloStatus {
  name: string;
  source: SloSource;
  spec: SloSpec;
  evaluatedAt: number;
  budget: ErrorBudget;
  /** The same over the SLA's objective and window, when one is attached. */
  sla: ErrorBudget | null;
  burnRates: BurnRateAlerts;
  thresholds: ThresholdEvaluation[];
  /** The most severe firing rule (burn rate or threshold), or null. */
  severity: "page" | "ticket" | null;
}

/** Good events of an SLI in a sample: requests not 5xx, or answered within the threshold. */
export function goodEvents(sli: SliSpec, sample: SliSample): number {
  if (sli.type === "availability") return sample.requests - sample.errors;
  let good = 0;
  for (const [le, n] of sample.latency) if (le <= sli.threshold + 1e-9) good += n;
  return Math.min(good, sample.requests);
}

function matches(spec: SloSpec, sample: SliSample): boolean {
  return (
    sample.service === spec.service && (spec.sli.version === undefined || spec.sli.version === sample.version)
  );
}

interface Tracked {
  name: string;
  source: SloSource;
  spec: SloSpec;
  series: TieredSliSeries;
  /** Since when each burn-rate rule with a `for` has held, by rule index. */
  holding: Map<number, number>;
}

/**
 * Keeps every SLO's SLI in memory (fine points for recent hours, coarse buckets for weeks,
 * restored from the store at start), adds each sampled interval, and evaluates budgets,
 * burn rates and threshold rules at a time given by the injected clock.
 */
export class SloEngine {
  readonly #catalog: SloCatalog;
  readonly #store: SliStore;
  readonly #now: () => Date;
  readonly #log: Logger | undefined;
  #tracked = new Map<string, Tracked>();
  #reloading: Promise<void> | undefined;

  constructor(deps: { catalog: SloCatalog; store: SliStore; now: () => Date; log?: Logger }) {
    this.#catalog = deps.catalog;
    this.#store = deps.store;
    this.#now = deps.now;
    this.#log = deps.log;
    deps.catalog.onChange(() => {
      this.#reloading = this.load().catch((err) => this.#log?.error({ err }, "reloading SLOs failed"));
    });
  }

  /** Reads the SLO definitions and rebuilds each one's series from the store. */
  async load(): Promise<void> {
    const now = this.#now().getTime();
    const { coarse, fineFor, retention } = this.#store.settings;
    const settings = { coarse, fineFor, retention };
    const rolledThrough = (await this.#store.rolledThrough()) ?? Math.floor(now / coarse) * coarse;
    const tracked = new Map<string, Tracked>();
    for (const slo of await this.#catalog.list()) {
      const query = { service: slo.spec.service, version: slo.spec.sli.version, from: now - retention };
      const coarsePoints = merge(slo.spec, await this.#store.points({ ...query, tier: coarseTier }));
      const finePoints = merge(
        slo.spec,
        await this.#store.points({ ...query, tier: fineTier, from: rolledThrough }),
      );
      const series = TieredSliSeries.restore(settings, coarsePoints, finePoints, rolledThrough);
      tracked.set(slo.name, {
        name: slo.name,
        source: slo.source,
        spec: slo.spec,
        series,
        holding: new Map(),
      });
    }
    this.#tracked = tracked;
  }

  /** Waits for a reload started by a change of definitions. */
  async settled(): Promise<void> {
    await this.#reloading;
  }

  /** Adds one sampled interval (every version's sample of it, same `at` and `span`). */
  record(samples: readonly SliSample[]): void {
    if (samples.length === 0) return;
    const byService = new Map<string, SliSample[]>();
    for (const s of samples) {
      const list = byService.get(s.service);
      if (list) list.push(s);
      else byService.set(s.service, [s]);
    }
    for (const t of this.#tracked.values()) {
      let good = 0;
      let total = 0;
      for (const s of byService.get(t.spec.service) ?? []) {
        if (!matches(t.spec, s)) continue;
        good += goodEvents(t.spec.sli, s);
        total += s.requests;
      }
      const { at, span } = samples[0]!;
      try {
        t.series.append({ at, span, good, total });
      } catch (err) {
        this.#log?.warn({ err, slo: t.name }, "SLI point out of order; skipped");
      }
    }
  }

  names(): string[] {
    return [...this.#tracked.keys()];
  }

  evaluate(name?: string): SloStatus[] {
    const now = this.#now().getTime();
    const out: SloStatus[] = [];
    for (const t of this.#tracked.values()) {
      if (name !== undefined && t.name !== name) continue;
      out.push(evaluateOne(t, now));
    }
    return out;
  }
}

function evaluateOne(t: Tracked, now: number): SloStatus {
  const { spec, series } = t;
  const burnRates = burnRateAlerts(series, spec.objective, spec.alerting.burnRates, now);
  burnRates.rules.forEach((r, i) => {
    if (!r.rule.for) return;
    if (!r.firing) {
      t.holding.delete(i);
      return;
    }
    const since = t.holding.get(i) ?? now;
    t.holding.set(i, since);
    r.firing = now - since >= r.rule.for;
  });
  if (!burnRates.rules.some((r) => r.firing && r.rule.severity === "page"))
    burnRates.severity = burnRates.rules.some((r) => r.firing) ? "ticket" : null;
  const thresholds = spec.alerting.thresholds.map((rule) => thresholdAlert(series, rule, now));
  const firing = [
    ...burnRates.rules.filter((r) => r.firing).map((r) => r.rule.severity),
    ...thresholds.filter((r) => r.firing).map((r) => r.rule.severity),
  ];
  return {
    name: t.name,
    source: t.source,
    spec,
    evaluatedAt: now,
    budget: errorBudget(series, spec.objective, spec.window, now),
    sla: spec.sla ? errorBudget(series, spec.sla.objective, spec.sla.window ?? spec.window, now) : null,
    burnRates,
    thresholds,
    severity: firing.includes("page") ? "page" : firing.length > 0 ? "ticket" : null,
  };
}

/** Versions' points of one interval summed into one point of the SLO's SLI; out-of-order ones skipped. */
function merge(spec: SloSpec, samples: SliSample[]) {
  const byAt = new Map<number, { at: number; span: number; good: number; total: number }>();
  for (const s of samples) {
    const p = byAt.get(s.at) ?? { at: s.at, span: s.span, good: 0, total: 0 };
    p.good += goodEvents(spec.sli, s);
    p.total += s.requests;
    byAt.set(s.at, p);
  }
  const sorted = [...byAt.values()].sort((a, b) => a.at - b.at);
  const out: typeof sorted = [];
  for (const p of sorted) {
    const prev = out.at(-1);
    if (prev && p.at - p.span < prev.at) continue;
    out.push(p);
  }
  return out;
}
