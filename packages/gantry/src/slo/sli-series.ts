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
  #length = 0;

  static of(points: Iterable<SliPoint>): SliSeries {
    const series = new SliSeries();
    for (const p of points) series.append(p);
    return series;
  }

  get length(): number {
    return this.#length;
  }

  /** The end of the last point, or undefined when empty. */
  get lastAt(): number | undefined {
    return this.#length === 0 ? undefined : this.#at[this.#length - 1];
  }

  get firstStart(): number | undefined {
    return this.#length === 0 ? undefined : this.#at[0]! - this.#span[0]!;
  }

  append(point: SliPoint): void {
    if (!(point.span > 0)) throw new RangeError(`an SLI point needs a span above 0 (got ${point.span})`);
    if (point.good < 0 || point.total < 0 || point.good > point.total)
      throw new RangeError(`an SLI point needs 0 <= good <= total (got ${point.good}/${point.total})`);
    const n = this.#length;
    if (n > 0 && point.at - point.span < this.#at[n - 1]! - 1e-6)
      throw new RangeError(
        `SLI points must not overlap: one ending ${new Date(point.at).toISOString()} starts before the last ended`,
      );
    if (n === this.#at.length) this.#grow();
    this.#at[n] = point.at;
    this.#span[n] = point.span;
    this.#good[n] = point.good;
    this.#total[n] = point.total;
    this.#cumGood[n + 1] = this.#cumGood[n]! + point.good;
    this.#cumTotal[n + 1] = this.#cumTotal[n]! + point.total;
    this.#length = n + 1;
  }

  /** Forgets the points that end at or before `t` (they can no longer fall in any window). */
  dropThrough(t: number): void {
    const k = this.#firstAfter(t);
    if (k === 0) return;
    const n = this.#length - k;
    this.#at.copyWithin(0, k, this.#length);
    this.#span.copyWithin(0, k, this.#length);
    this.#good.copyWithin(0, k, this.#length);
    this.#total.copyWithin(0, k, this.#length);
    this.#length = n;
    this.#cumGood[0] = 0;
    this.#cumTotal[0] = 0;
    for (let i = 0; i < n; i++) {
      this.#cumGood[i + 1] = this.#cumGood[i]! + this.#good[i]!;
      this.#cumTotal[i + 1] = this.#cumTotal[i]! + this.#total[i]!;
    }
  }

  /**
   * Events in (from, to]. A point that straddles an edge counts in proportion to the part of
   * its interval inside the window (events are taken as spread evenly over a point).
   */
  counts(from: number, to: number, prorateStart = true): EventCounts {
    if (!(to > from) || this.#length === 0) return { good: 0, total: 0 };
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
    if (hi < this.#length) {
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
    for (let i = 0; i < this.#length; i++)
      out.push({ at: this.#at[i]!, span: this.#span[i]!, good: this.#good[i]!, total: this.#total[i]! });
    return out;
  }

  /** Index of the first point ending after t. */
  #firstAfter(t: number): number {
    let lo = 0;
    let hi = this.#length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#at[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #grow(): void {
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
