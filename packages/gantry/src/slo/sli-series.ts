/**
 * Good and total events of one SLI over time, as points that each cover (at - span, at].
 * Running sums are kept beside the points, so the events of any window cost two binary
 * searches whatever its length: 1,000 SLOs over a day of one-second points evaluate in
 * milliseconds. Points must be appended in time order.
 */
export interface SliPoint {
  /** End of the interval the point covers, ms since the epoch. */
  at: number;
  /** Length of that interval, ms (> 0). */
  span: number;
  good: number;
  total: number;
}

export interface EventCounts {
  good: number;
  total: number;
}

/** What burn-rate and budget math read: events in the window (from, to]. */
export interface WindowCounts {
  counts(from: number, to: number): EventCounts;
}

export class SliSeries implements WindowCounts {
  #at = new Float64Array(64);
  #span = new Float64Array(64);
  #good = new Float64Array(64);
  #total = new Float64Array(64);
  /** Running sums: #cumGood[i] is the good events of points before i. */
  #cumGood = new Float64Array(65);
  #cumTotal = new Float64Array(65);
  /** Live points are at indices [#start, #end); those before #start were dropped. */
  #start = 0;
  #end = 0;

  static of(points: Iterable<SliPoint>): SliSeries {
    const series = new SliSeries();
    for (const p of points) series.append(p);
    return series;
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** The end of the last point, or undefined when empty. */
  get lastAt(): number | undefined {
    return this.#end === this.#start ? undefined : this.#at[this.#end - 1];
  }

  get firstStart(): number | undefined {
    return this.#end === this.#start ? undefined : this.#at[this.#start]! - this.#span[this.#start]!;
  }

  append(point: SliPoint): void {
    if (!(point.span > 0)) throw new RangeError(`an SLI point needs a span above 0 (got ${point.span})`);
    if (point.good < 0 || point.total < 0 || point.good > point.total)
      throw new RangeError(`an SLI point needs 0 <= good <= total (got ${point.good}/${point.total})`);
    if (this.#end > this.#start && point.at - point.span < this.#at[this.#end - 1]! - 1e-6)
      throw new RangeError(
        `SLI points must not overlap: one ending ${new Date(point.at).toISOString()} starts before the last ended`,
      );
    if (this.#end === this.#at.length) this.#makeRoom();
    const n = this.#end;
    this.#at[n] = point.at;
    this.#span[n] = point.span;
    this.#good[n] = point.good;
    this.#total[n] = point.total;
    this.#cumGood[n + 1] = this.#cumGood[n]! + point.good;
    this.#cumTotal[n + 1] = this.#cumTotal[n]! + point.total;
    this.#end = n + 1;
  }

  /**
   * Forgets the points that end at or before `t` (they can no longer fall in any window). Cheap:
   * the space is reclaimed when the arrays fill up, not on every call.
   */
  dropThrough(t: number): void {
    this.#start = this.#firstAfter(t);
  }

  /**
   * Events in (from, to]. A point that straddles an edge counts in proportion to the part of
   * its interval inside the window (events are taken as spread evenly over a point).
   */
  counts(from: number, to: number, prorateStart = true): EventCounts {
    if (!(to > from) || this.#end === this.#start) return { good: 0, total: 0 };
    const lo = this.#firstAfter(from);
    const hi = this.#firstAfter(to);
    let good = this.#cumGood[hi]! - this.#cumGood[lo]!;
    let total = this.#cumTotal[hi]! - this.#cumTotal[lo]!;
    if (lo < hi && prorateStart) {
      // Point lo ends inside the window; the part of it before `from` is outside.
      const start = this.#at[lo]! - this.#span[lo]!;
      if (start < from) {
        const outside = (from - start) / this.#span[lo]!;
        good -= this.#good[lo]! * outside;
        total -= this.#total[lo]! * outside;
      }
    }
    if (hi < this.#end) {
      // Point hi ends after `to`; the part of it inside (from, to] counts.
      const start = this.#at[hi]! - this.#span[hi]!;
      const inside = to - (prorateStart ? Math.max(start, from) : start);
      if (inside > 0) {
        const share = inside / this.#span[hi]!;
        good += this.#good[hi]! * share;
        total += this.#total[hi]! * share;
      }
    }
    return { good: Math.max(0, good), total: Math.max(0, total) };
  }

  /** Events of the whole points that end in (from, to], none prorated. */
  sumEnding(from: number, to: number): EventCounts {
    const lo = this.#firstAfter(from);
    const hi = this.#firstAfter(to);
    return {
      good: this.#cumGood[hi]! - this.#cumGood[lo]!,
      total: this.#cumTotal[hi]! - this.#cumTotal[lo]!,
    };
  }

  points(): SliPoint[] {
    const out: SliPoint[] = [];
    for (let i = this.#start; i < this.#end; i++)
      out.push({ at: this.#at[i]!, span: this.#span[i]!, good: this.#good[i]!, total: this.#total[i]! });
    return out;
  }

  /** Index of the first point ending after t. */
  #firstAfter(t: number): number {
    let lo = this.#start;
    let hi = this.#end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#at[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Full: moves the live points to the front when half the room is dropped ones, else grows. */
  #makeRoom(): void {
    const start = this.#start;
    if (start >= this.#at.length / 2) {
      const n = this.#end - start;
      this.#at.copyWithin(0, start, this.#end);
      this.#span.copyWithin(0, start, this.#end);
      this.#good.copyWithin(0, start, this.#end);
      this.#total.copyWithin(0, start, this.#end);
      const baseGood = this.#cumGood[start]!;
      const baseTotal = this.#cumTotal[start]!;
      for (let i = 0; i <= n; i++) {
        this.#cumGood[i] = this.#cumGood[i + start]! - baseGood;
        this.#cumTotal[i] = this.#cumTotal[i + start]! - baseTotal;
      }
      this.#start = 0;
      this.#end = n;
      return;
    }
    const size = this.#at.length * 2;
    const grow = (a: Float64Array, n: number) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.#at = grow(this.#at, size);
    this.#span = grow(this.#span, size);
    this.#good = grow(this.#good, size);
    this.#total = grow(this.#total, size);
    this.#cumGood = grow(this.#cumGood, size + 1);
    this.#cumTotal = grow(this.#cumTotal, size + 1);
  }
}
