import { createHash } from "node:crypto";
import { formatDuration, type PrometheusSliSpec } from "../config/index.ts";
import { counterQuery, instantVector, rangeQuery } from "../prometheus/index.ts";
import type { SliPoint } from "./sli-series.ts";
import { coarseTier, fineTier, type SliSample, type SliStore } from "./sli-store.ts";

/**
 * The `service` of Prometheus SLIs' rows in the SLI store. No service is named so (names have
 * no "@"), so these rows share the store's tiers, retention and row budget without mixing with
 * a service's; `version` tells SLIs apart by a digest of their URL and queries.
 */
export const prometheusSliService = "@prometheus";

/** How reading an SLI from Prometheus goes, as `gantry slo show` reports it. */
export interface PrometheusSliStatus {
  url: string;
  /** Whether the last attempt to read Prometheus succeeded. */
  ok: boolean;
  /** Why the last attempt failed. */
  error: string | null;
  /** When the current run of failures began, ms. */
  failingSince: number | null;
  /** End of the last interval read, ms. */
  lastReadAt: number | null;
}

/** Counter values by series (its labels as JSON), with when each was last seen. */
type Counters = Map<string, { value: number; seen: number }>;

interface Reading {
  at: number;
  /** The good (or bad) counter's series, and the total's. */
  part: Counters;
  total: Counters;
}

/** A series absent from a reading is remembered this long, so a target that misses scrapes loses no events. */
const forgetAfter = 3_600_000;
/** Steps per range query, under Prometheus' limit of 11,000 points a series. */
const maxSteps = 10_000;

/**
 * One SLI read from Prometheus: good (or bad) and total events, each the increase of a
 * counter. Each interval Gantry reads every series the selector matches and adds up each
 * series' increase since the previous reading (a value below the previous one is a counter
 * reset: the new value is the increase, as Prometheus' increase() takes it). History is
 * filled with `sum(increase(SELECTOR[coarse]))` at each coarse boundary (query_range), and
 * an interval inside a coarse bucket by reading the counters at its two ends. Points are
 * written to the SLI store; nothing is written for what Prometheus could not answer.
 */
export class PrometheusSli {
  readonly spec: PrometheusSliSpec;
  /** Where its points are in the SLI store. */
  readonly key: { service: string; version: string };
  readonly #store: SliStore;
  readonly #timeout: number;
  readonly #part: string;
  readonly #total: string;
  readonly #partIsGood: boolean;
  #previous: Reading | undefined;
  #status: PrometheusSliStatus;

  constructor(spec: PrometheusSliSpec, deps: { store: SliStore; timeout: number }) {
    this.spec = spec;
    this.#store = deps.store;
    this.#timeout = deps.timeout;
    this.#partIsGood = spec.good !== undefined;
    this.#part = selectorOf((spec.good ?? spec.bad)!);
    this.#total = selectorOf(spec.total);
    this.key = { service: prometheusSliService, version: prometheusSliDigest(spec) };
    this.#status = { url: spec.url, ok: true, error: null, failingSince: null, lastReadAt: null };
  }

  status(): PrometheusSliStatus {
    return { ...this.#status };
  }

  /**
   * Fills the holes of the stored series between `from` and now (or the previous reading),
   * then takes the baseline the next sample counts from. False when Prometheus could not be
   * read; what was filled before the failure stays.
   */
  async sync(from: number, now: number): Promise<boolean> {
    try {
      await this.#fill(from, now);
      this.#succeeded();
      return true;
    } catch (error) {
      this.#failed(error, now);
      return false;
    }
  }

  /**
   * Reads the interval since the previous reading and stores its point. Without a previous
   * reading, or after one older than a coarse bucket (Prometheus was unreachable), the
   * missing history is filled first (`resynced`: the stored series changed beyond the point).
   */
  async sample(now: number, from: number): Promise<{ resynced: boolean; point?: SliPoint }> {
    let resynced = false;
    const previous = this.#previous;
    if (!previous || now - previous.at > this.#store.settings.coarse) {
      this.#previous = undefined;
      // What a failed fill wrote is read with the next one that succeeds.
      if (!(await this.sync(from, now))) return { resynced };
      resynced = true;
    }
    try {
      const reading = await this.#read(now);
      const before = this.#previous!;
      if (reading.at <= before.at) return { resynced };
      const point = this.#point(before, reading);
      await this.#store.write([toSample(this.key, point)]);
      this.#previous = carryOver(before, reading);
      this.#succeeded(point.at);
      return { resynced, point };
    } catch (error) {
      this.#failed(error, now);
      return { resynced };
    }
  }

  async #fill(from: number, now: number): Promise<void> {
    const { coarse } = this.#store.settings;
    const boundary = Math.floor(now / coarse) * coarse;
    const start = Math.floor(from / coarse) * coarse;
    const stored = [
      ...(await this.#store.points({ ...this.key, tier: coarseTier, from: start })),
      ...(await this.#store.points({ ...this.key, tier: fineTier, from: start })),
    ].map((p): [number, number] => [p.at - p.span, p.at]);
    const covered = union(stored);
    const lastEnd = covered.at(-1)?.[1];
    const end = this.#previous?.at ?? Math.max(boundary, lastEnd ?? boundary);
    // Buckets ending after this are still fine points in the store; before, coarse ones.
    const rolled = (await this.#store.rolledThrough()) ?? boundary;
    for (const [s, e] of holes(covered, start, end)) {
      const first = Math.ceil(s / coarse) * coarse;
      const last = Math.floor(e / coarse) * coarse;
      if (first > last) {
        // Inside one bucket: only after the rolled-up ones can a part of a bucket be stored.
        if (s >= rolled) await this.#storeDelta(s, e);
        continue;
      }
      if (first > s && first > rolled) await this.#storeDelta(s, first);
      if (last > first) await this.#storeBuckets(first, last, rolled);
      if (e > last && last >= rolled) await this.#storeDelta(last, e);
    }
    if (!this.#previous) this.#previous = await this.#read(Math.max(boundary, lastEnd ?? boundary));
  }

  /** Whole coarse buckets ending in (from, to], from query_range; steps without data stay empty. */
  async #storeBuckets(from: number, to: number, rolled: number): Promise<void> {
    const { coarse } = this.#store.settings;
    const range = formatDuration(coarse);
    for (let first = from + coarse; first <= to; first += coarse * maxSteps) {
      const last = Math.min(to, first + coarse * (maxSteps - 1));
      const options = { start: first, end: last, step: coarse, signal: AbortSignal.timeout(this.#timeout) };
      const [part, total] = await Promise.all(
        [this.#part, this.#total].map(async (selector) => {
          const series = await rangeQuery(this.spec.url, `sum(increase(${selector}[${range}]))`, options);
          return new Map(series[0]?.values ?? []);
        }),
      );
      const points: SliPoint[] = [];
      for (const [at, events] of total!) points.push(this.#counted(at, coarse, events, part!.get(at) ?? 0));
      const samples = points.map((p) => toSample(this.key, p));
      await this.#store.write(
        samples.filter((s) => s.at <= rolled),
        coarseTier,
      );
      await this.#store.write(samples.filter((s) => s.at > rolled));
    }
  }

  /** The interval (from, to] from the counters at its two ends. */
  async #storeDelta(from: number, to: number): Promise<void> {
    const [before, after] = await Promise.all([this.#read(from), this.#read(to)]);
    await this.#store.write([toSample(this.key, this.#point(before, after))]);
  }

  async #read(at: number): Promise<Reading> {
    const signal = AbortSignal.timeout(this.#timeout);
    const [part, total] = await Promise.all(
      [this.#part, this.#total].map(async (selector) => {
        const counters: Counters = new Map();
        for (const s of await instantVector(this.spec.url, selector, { time: at, signal }))
          counters.set(seriesKey(s.labels), { value: s.value, seen: at });
        return counters;
      }),
    );
    return { at, part: part!, total: total! };
  }

  #point(before: Reading, after: Reading): SliPoint {
    return this.#counted(
      after.at,
      after.at - before.at,
      increase(before.total, after.total),
      increase(before.part, after.part),
    );
  }

  /** A point from total events and good (or bad) ones; good is kept within [0, total]. */
  #counted(at: number, span: number, total: number, part: number): SliPoint {
    const t = Math.max(0, total);
    const good = this.#partIsGood ? part : t - part;
    return { at, span, good: Math.min(t, Math.max(0, good)), total: t };
  }

  #succeeded(readAt?: number): void {
    this.#status = {
      ...this.#status,
      ok: true,
      error: null,
      failingSince: null,
      lastReadAt: readAt ?? this.#status.lastReadAt,
    };
  }

  #failed(error: unknown, now: number): void {
    const message =
      (error as Error).name === "TimeoutError"
        ? `Prometheus at ${this.spec.url} did not answer within ${formatDuration(this.#timeout)}`
        : (error as Error).message;
    this.#status = {
      ...this.#status,
      ok: false,
      error: message,
      failingSince: this.#status.failingSince ?? now,
    };
  }
}

/**
 * The Prometheus SLIs of the SLOs, one per URL and queries (SLOs over the same events share
 * one: one set of queries, one stored series).
 */
export class PrometheusSlis {
  readonly #store: SliStore;
  readonly #timeout: number;
  readonly #slis = new Map<string, PrometheusSli>();

  constructor(deps: { store: SliStore; timeout?: number }) {
    this.#store = deps.store;
    this.#timeout = deps.timeout ?? 10_000;
  }

  get(spec: PrometheusSliSpec): PrometheusSli {
    const digest = prometheusSliDigest(spec);
    let sli = this.#slis.get(digest);
    if (!sli) {
      sli = new PrometheusSli(spec, { store: this.#store, timeout: this.#timeout });
      this.#slis.set(digest, sli);
    }
    return sli;
  }

  /** Forgets the SLIs no SLO reads any more. */
  retain(keep: Iterable<PrometheusSli>): void {
    const kept = new Set(keep);
    for (const [digest, sli] of this.#slis) if (!kept.has(sli)) this.#slis.delete(digest);
  }
}

/** What tells one Prometheus SLI's stored points from another's: its URL and what its queries select. */
export function prometheusSliDigest(spec: PrometheusSliSpec): string {
  const parts = [
    spec.url,
    spec.good === undefined ? "" : selectorOf(spec.good),
    spec.bad === undefined ? "" : selectorOf(spec.bad),
    selectorOf(spec.total),
  ];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

function selectorOf(query: string): string {
  const parsed = counterQuery(query);
  if ("error" in parsed) throw new Error(`invalid counter query ${query}: ${parsed.error}`);
  return parsed.selector;
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Each series' increase from one reading to the next, summed; a series new in `after` is its baseline. */
function increase(before: Counters, after: Counters): number {
  let sum = 0;
  for (const [series, now] of after) {
    const then = before.get(series);
    if (then === undefined) continue;
    sum += now.value >= then.value ? now.value - then.value : now.value;
  }
  return sum;
}

/** The reading to count the next interval from: `after`, and series it lacks that were seen lately. */
function carryOver(before: Reading, after: Reading): Reading {
  const keep = (old: Counters, now: Counters) => {
    for (const [series, c] of old)
      if (!now.has(series) && after.at - c.seen < forgetAfter) now.set(series, c);
    return now;
  };
  return { at: after.at, part: keep(before.part, after.part), total: keep(before.total, after.total) };
}

/** Sorted, overlapping or touching intervals merged. */
function union(intervals: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s, e] of intervals.sort((a, b) => a[0] - b[0])) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The parts of (start, end] that no interval covers. */
function holes(covered: [number, number][], start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  let at = start;
  for (const [s, e] of covered) {
    if (e <= at) continue;
    if (s >= end) break;
    if (s > at) out.push([at, s]);
    at = Math.max(at, e);
  }
  if (at < end) out.push([at, end]);
  return out;
}

function toSample(key: { service: string; version: string }, p: SliPoint): SliSample {
  return {
    ...key,
    at: p.at,
    span: p.span,
    requests: p.total,
    errors: p.total - p.good,
    latency: new Map(),
    cpuSeconds: null,
    rssBytes: null,
  };
}
