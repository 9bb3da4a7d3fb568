import type { Logger } from "pino";
import type { SliSpec, SloSpec } from "../config/index.ts";
import {
  type BurnRateAlerts,
  burnRateAlerts,
  type ThresholdEvaluation,
  thresholdAlert,
} from "./burn-rate.ts";
import { type ErrorBudget, errorBudget } from "./error-budget.ts";
import { type PrometheusSli, type PrometheusSliStatus, PrometheusSlis } from "./prometheus-sli.ts";
import { coarseTier, fineTier, type SliSample, type SliStore } from "./sli-store.ts";
import type { SloCatalog, SloSource } from "./slo-catalog.ts";
import { windowAt } from "./slo-window.ts";
import { TieredSliSeries } from "./tiered-sli-series.ts";

/** Where an SLO's events come from: the router, or Prometheus (and how reading it goes). */
export type SliSourceStatus = { kind: "router" } | ({ kind: "prometheus" } & PrometheusSliStatus);

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
  sliSource: SliSourceStatus;
}

/**
 * Good events of an SLI in a sample: requests not 5xx, or answered within the threshold.
 * A Prometheus SLI's points are stored as requests = its events, errors = its bad ones.
 */
export function goodEvents(sli: SliSpec, sample: SliSample): number {
  if (sli.type !== "latency") return sample.requests - sample.errors;
  let good = 0;
  for (const [le, n] of sample.latency) if (le <= sli.threshold + 1e-9) good += n;
  return Math.min(good, sample.requests);
}

/** The build version a router SLI is restricted to. */
function sliVersion(sli: SliSpec): string | undefined {
  return sli.type === "ratio" ? undefined : sli.version;
}

function matches(spec: SloSpec, sample: SliSample): boolean {
  const version = sliVersion(spec.sli);
  return sample.service === spec.service && (version === undefined || version === sample.version);
}

interface Tracked {
  name: string;
  source: SloSource;
  spec: SloSpec;
  series: TieredSliSeries;
  /** Since when each burn-rate rule with a `for` has held, by rule index. */
  holding: Map<number, number>;
  /** The SLI read from Prometheus, for a ratio SLI. */
  prometheus: PrometheusSli | undefined;
}

/** The earliest time an SLO's windows, SLA and alert rules look at now, within what the store keeps. */
function historyStart(spec: SloSpec, now: number, retention: number): number {
  const starts = [
    windowAt(spec.window, now).from,
    ...(spec.sla?.window ? [windowAt(spec.sla.window, now).from] : []),
    ...spec.alerting.burnRates.map((r) => now - r.longWindow),
    ...spec.alerting.thresholds.map((r) => now - r.window),
  ];
  return Math.max(now - retention, Math.min(...starts));
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
  readonly #prometheus: PrometheusSlis;
  #tracked = new Map<string, Tracked>();
  #reloading: Promise<void> | undefined;
  /** Loads and Prometheus collections, one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: {
    catalog: SloCatalog;
    store: SliStore;
    now: () => Date;
    log?: Logger;
    /** Prometheus SLIs (made here when not given). */
    prometheus?: PrometheusSlis;
  }) {
    this.#catalog = deps.catalog;
    this.#store = deps.store;
    this.#now = deps.now;
    this.#log = deps.log;
    this.#prometheus = deps.prometheus ?? new PrometheusSlis({ store: deps.store });
    deps.catalog.onChange(() => {
      this.#reloading = this.load().catch((err) => this.#log?.error({ err }, "reloading SLOs failed"));
    });
  }

  /**
   * Reads the SLO definitions and rebuilds each one's series from the store. The history of
   * SLIs read from Prometheus is filled first where the store has none (a new SLO, or Gantry
   * was stopped), so that budgets are right from the first evaluation.
   */
  load(): Promise<void> {
    return this.#exclusive(async () => {
      const now = this.#now().getTime();
      const slos = await this.#catalog.list();
      const fill = new Map<PrometheusSli, number>();
      for (const { spec } of slos) {
        if (spec.sli.type !== "ratio") continue;
        const sli = this.#prometheus.get(spec.sli.prometheus);
        const from = historyStart(spec, now, this.#store.settings.retention);
        fill.set(sli, Math.min(fill.get(sli) ?? from, from));
      }
      this.#prometheus.retain(fill.keys());
      await Promise.all([...fill].map(([sli, from]) => sli.sync(from, now)));
      const tracked = new Map<string, Tracked>();
      for (const slo of slos) {
        const prometheus =
          slo.spec.sli.type === "ratio" ? this.#prometheus.get(slo.spec.sli.prometheus) : undefined;
        tracked.set(slo.name, {
          name: slo.name,
          source: slo.source,
          spec: slo.spec,
          series: await this.#restore(slo.spec, prometheus, now),
          holding: new Map(),
          prometheus,
        });
      }
      this.#tracked = tracked;
    });
  }

  /** An SLO's series from the store: coarse points through the last roll-up, fine ones after. */
  async #restore(
    spec: SloSpec,
    prometheus: PrometheusSli | undefined,
    now: number,
  ): Promise<TieredSliSeries> {
    const { coarse, fineFor, retention } = this.#store.settings;
    const rolledThrough = (await this.#store.rolledThrough()) ?? Math.floor(now / coarse) * coarse;
    const query = prometheus
      ? { ...prometheus.key, from: now - retention }
      : { service: spec.service, version: sliVersion(spec.sli), from: now - retention };
    const coarsePoints = merge(spec, await this.#store.points({ ...query, tier: coarseTier }));
    const finePoints = merge(
      spec,
      await this.#store.points({ ...query, tier: fineTier, from: rolledThrough }),
    );
    return TieredSliSeries.restore({ coarse, fineFor, retention }, coarsePoints, finePoints, rolledThrough);
  }

  /**
   * Reads one interval of every SLI from Prometheus and adds it to the SLOs over it (on the
   * interval the router is sampled). An SLI Prometheus could not answer gets no point and
   * shows the error in its SLOs' status; the next answer covers the time missed. True when
   * an SLO's series changed.
   */
  collect(): Promise<boolean> {
    return this.#exclusive(async () => {
      const now = this.#now().getTime();
      const bySli = new Map<PrometheusSli, Tracked[]>();
      for (const t of this.#tracked.values()) {
        if (!t.prometheus) continue;
        const list = bySli.get(t.prometheus);
        if (list) list.push(t);
        else bySli.set(t.prometheus, [t]);
      }
      const { retention } = this.#store.settings;
      let changed = false;
      await Promise.all(
        [...bySli].map(async ([sli, slos]) => {
          const from = Math.min(...slos.map((t) => historyStart(t.spec, now, retention)));
          const { resynced, point } = await sli.sample(now, from);
          changed ||= resynced || point !== undefined;
          for (const t of slos) {
            if (resynced) t.series = await this.#restore(t.spec, sli, now);
            else if (point) this.#append(t, point);
          }
        }),
      );
      return changed;
    });
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #append(t: Tracked, point: { at: number; span: number; good: number; total: number }): void {
    try {
      t.series.append(point);
    } catch (err) {
      this.#log?.warn({ err, slo: t.name }, "SLI point out of order; skipped");
    }
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
      if (t.prometheus) continue;
      let good = 0;
      let total = 0;
      for (const s of byService.get(t.spec.service) ?? []) {
        if (!matches(t.spec, s)) continue;
        good += goodEvents(t.spec.sli, s);
        total += s.requests;
      }
      const { at, span } = samples[0]!;
      this.#append(t, { at, span, good, total });
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
    sliSource: t.prometheus ? { kind: "prometheus", ...t.prometheus.status() } : { kind: "router" },
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
