/** One entry of POST /api/v1/sdk/flags/evaluations. */
export interface EvaluationCount {
  flagKey: string;
  variant: string;
  count: number;
  lastAt: string;
}

interface Counter {
  /** Evaluations since the last take. */
  count: number;
  /** Evaluations of a report that failed, waiting to be sent again, and when the last of them was. */
  carried: number;
  carriedLastMs: number;
}

/**
 * How often each flag served each variant since the last report, in memory and bounded.
 * Counting is two map lookups and an increment: no clock read and no allocation once a
 * pair has been seen. An entry's `lastAt` is when it was taken for a report, so it is at
 * most one report interval after the real last evaluation (the server keeps "last
 * evaluated" to that precision). At most `maxEntries` flag/variant pairs are held (a pair
 * not served for a whole interval is forgotten); what does not fit is dropped and counted,
 * never queued. Counts of a report that failed are put back, keeping their time.
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
    for (const byVariant of this.#counters.values()) {
      for (const c of byVariant.values()) pending += c.count + c.carried;
    }
    return pending;
  }

  /** Evaluations that could not be counted (too many pairs waiting) or whose report was refused. */
  get dropped(): number {
    return this.#dropped;
  }

  /** One evaluation served `variant` (the hot path). */
  add(flagKey: string, variant: string): void {
    const counter = this.#counters.get(flagKey)?.get(variant);
    if (counter !== undefined) counter.count++;
    else this.#counter(flagKey, variant, 1);
  }

  /**
   * Takes everything counted so far, as report entries timed `nowMs`. Counters are reset,
   * not removed, so the next interval counts without allocating; a pair not served for a
   * whole interval is removed, so flags deleted long ago do not take room.
   */
  take(nowMs: number): EvaluationCount[] {
    const taken: EvaluationCount[] = [];
    const now = new Date(nowMs).toISOString();
    for (const [flagKey, byVariant] of this.#counters) {
      for (const [variant, counter] of byVariant) {
        const count = counter.count + counter.carried;
        if (count === 0) {
          byVariant.delete(variant);
          this.#entries--;
          continue;
        }
        const lastAt = counter.count > 0 ? now : new Date(counter.carriedLastMs).toISOString();
        taken.push({ flagKey, variant, count, lastAt });
        counter.count = 0;
        counter.carried = 0;
      }
      if (byVariant.size === 0) this.#counters.delete(flagKey);
    }
    return taken;
  }

  /** Returns entries whose report failed, to be sent with the next one. */
  putBack(entries: readonly EvaluationCount[]): void {
    for (const e of entries) {
      const counter = this.#counters.get(e.flagKey)?.get(e.variant) ?? this.#counter(e.flagKey, e.variant, 0);
      if (counter === undefined) {
        this.#dropped += e.count;
        continue;
      }
      counter.carried += e.count;
      counter.carriedLastMs = Math.max(counter.carriedLastMs, Date.parse(e.lastAt));
    }
  }

  /** Records entries that will never be reported (the server refused them). */
  drop(entries: readonly EvaluationCount[]): void {
    for (const e of entries) this.#dropped += e.count;
  }

  /** A new counter holding `count`, or undefined (and the count dropped) when there is no room. */
  #counter(flagKey: string, variant: string, count: number): Counter | undefined {
    if (this.#entries >= this.#maxEntries) {
      this.#dropped += count;
      return undefined;
    }
    let byVariant = this.#counters.get(flagKey);
    if (byVariant === undefined) {
      byVariant = new Map();
      this.#counters.set(flagKey, byVariant);
    }
    const counter: Counter = { count, carried: 0, carriedLastMs: 0 };
    byVariant.set(variant, counter);
    this.#entries++;
    return counter;
  }
}
