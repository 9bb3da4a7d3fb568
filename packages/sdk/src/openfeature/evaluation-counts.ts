/** One entry of POST /api/v1/sdk/flags/evaluations. */
export interface EvaluationCount {
  flagKey: string;
  variant: string;
  count: number;
  lastAt: string;
}

interface Counter {
  count: number;
  lastMs: number;
}

/**
 * How often each flag served each variant since the last report, in memory and bounded:
 * counting is two map lookups and an increment (no allocation once a pair has been seen),
 * at most `maxEntries` flag/variant pairs are held (a pair not served for a report interval
 * is forgotten), and what does not fit is dropped and
 * counted, never queued. Counts taken for a report that then fails are put back.
 */
export class EvaluationCounts {
  readonly #maxEntries: number;
  #counters = new Map<string, Map<string, Counter>>();
  #entries = 0;
  #dropped = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The number of evaluations waiting to be reported. */
  get pending(): number {
    let pending = 0;
    for (const byVariant of this.#counters.values()) for (const c of byVariant.values()) pending += c.count;
    return pending;
  }

  /** Evaluations that could not be counted (too many pairs waiting) or whose report was refused. */
  get dropped(): number {
    return this.#dropped;
  }

  add(flagKey: string, variant: string, count: number, atMs: number): void {
    let byVariant = this.#counters.get(flagKey);
    const counter = byVariant?.get(variant);
    if (counter !== undefined) {
      counter.count += count;
      if (atMs > counter.lastMs) counter.lastMs = atMs;
      return;
    }
    if (this.#entries >= this.#maxEntries) {
      this.#dropped += count;
      return;
    }
    if (byVariant === undefined) {
      byVariant = new Map();
      this.#counters.set(flagKey, byVariant);
    }
    byVariant.set(variant, { count, lastMs: atMs });
    this.#entries++;
  }

  /**
   * Takes everything counted so far, as report entries. Counters are reset, not removed, so
   * the next interval counts without allocating; a pair not served for a whole interval is
   * removed, so flags deleted long ago do not take room.
   */
  take(): EvaluationCount[] {
    const taken: EvaluationCount[] = [];
    for (const [flagKey, byVariant] of this.#counters) {
      for (const [variant, counter] of byVariant) {
        if (counter.count === 0) {
          byVariant.delete(variant);
          this.#entries--;
          continue;
        }
        taken.push({
          flagKey,
          variant,
          count: counter.count,
          lastAt: new Date(counter.lastMs).toISOString(),
        });
        counter.count = 0;
      }
      if (byVariant.size === 0) this.#counters.delete(flagKey);
    }
    return taken;
  }

  /** Returns entries whose report failed, to be sent with the next one. */
  putBack(entries: readonly EvaluationCount[]): void {
    for (const e of entries) this.add(e.flagKey, e.variant, e.count, Date.parse(e.lastAt));
  }

  /** Records entries that will never be reported (the server refused them). */
  drop(entries: readonly EvaluationCount[]): void {
    for (const e of entries) this.#dropped += e.count;
  }
}
