import { type EventCounts, type SliPoint, SliSeries, type WindowCounts } from "./sli-series.ts";

export interface TierSettings {
  /** Resolution of the coarse tier, ms: fine points are summed into buckets ending at multiples of it. */
  coarse: number;
  /** Fine points are kept this long, ms. */
  fineFor: number;
  /** Coarse points are kept this long, ms. */
  retention: number;
}

/**
 * An SLI as the evaluator keeps it in memory: every sampled point for recent hours and, for
 * older times, buckets of the coarse resolution (as the store keeps them), so a month-long
 * SLO window costs a few thousand points and a five-minute alert window is still exact.
 * A window is read from coarse buckets up to the last one completed and from fine points after.
 */
export class TieredSliSeries implements WindowCounts {
  readonly #settings: TierSettings;
  readonly #fine = new SliSeries();
  readonly #coarse = new SliSeries();
  /** Fine points ending at or before this are in the coarse tier. */
  #rolledThrough: number | undefined;

  constructor(settings: TierSettings) {
    this.#settings = settings;
  }

  /** The series from stored points: coarse ones through `rolledThrough`, fine ones after. */
  static restore(
    settings: TierSettings,
    coarse: Iterable<SliPoint>,
    fine: Iterable<SliPoint>,
    rolledThrough: number,
  ): TieredSliSeries {
    const s = new TieredSliSeries(settings);
    s.#rolledThrough = rolledThrough;
    for (const p of coarse) if (p.at <= rolledThrough) s.#coarse.append(p);
    for (const p of fine) if (p.at > rolledThrough) s.#fine.append(p);
    return s;
  }

  get rolledThrough(): number | undefined {
    return this.#rolledThrough;
  }

  get finePoints(): number {
    return this.#fine.length;
  }

  get coarsePoints(): number {
    return this.#coarse.length;
  }

  /** Appends a sampled point; coarse buckets that it completes are summed and old points dropped. */
  append(point: SliPoint): void {
    const { coarse } = this.#settings;
    // Buckets that ended before this point: every fine point of theirs has arrived.
    const complete = Math.floor((point.at - point.span) / coarse) * coarse;
    let through = this.#rolledThrough ?? complete;
    while (through < complete) {
      const end: number = through + coarse;
      const sum = this.#fine.sumEnding(through, end);
      if (sum.total > 0) this.#coarse.append({ at: end, span: coarse, ...sum });
      through = end;
    }
    this.#rolledThrough = through;
    this.#fine.append(point);
    this.#fine.dropThrough(Math.min(through, point.at - this.#settings.fineFor));
    if (this.#coarse.length > 0 && this.#coarse.firstStart! < point.at - this.#settings.retention - coarse)
      this.#coarse.dropThrough(point.at - this.#settings.retention);
  }

  counts(from: number, to: number): EventCounts {
    const c = this.#rolledThrough;
    if (c === undefined) return { good: 0, total: 0 };
    // Fine points are exact; they reach back fineFor (and always past the coarse boundary).
    const fineStart = this.#fine.firstStart;
    if (fineStart !== undefined && from >= fineStart) return this.#fine.counts(from, to);
    if (to <= c) return this.#coarse.counts(from, to);
    const old = this.#coarse.counts(from, c);
    const recent = this.#fine.counts(c, to, false);
    return { good: old.good + recent.good, total: old.total + recent.total };
  }
}
