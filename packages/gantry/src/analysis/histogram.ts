/**
 * A latency distribution as the router records it: counts per bucket (not cumulative), the
 * bucket i holding samples in (bounds[i-1], bounds[i]], and one last bucket above the last
 * bound. Bounds in milliseconds, ascending.
 */
export interface Histogram {
  bounds: readonly number[];
  counts: readonly number[];
}

export function total(h: Histogram): number {
  let n = 0;
  for (const c of h.counts) n += c;
  return n;
}

/**
 * The q-quantile (0..1), interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile does; a quantile in the open last bucket is reported as the last bound.
 * Null without samples.
 */
export function quantile(h: Histogram, q: number): number | null {
  const n = total(h);
  if (n === 0) return null;
  const rank = q * n;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (c > 0 && seen + c >= rank) {
      if (i >= h.bounds.length) return h.bounds.at(-1) ?? null;
      const lower = i === 0 ? 0 : h.bounds[i - 1]!;
      return lower + (h.bounds[i]! - lower) * ((rank - seen) / c);
    }
    seen += c;
  }
  return h.bounds.at(-1) ?? null;
}

/**
 * How many samples were slower than `limit` ms, interpolating linearly inside the bucket that
 * straddles it (samples of the open last bucket all count as slower).
 */
export function slowerThan(h: Histogram, limit: number): number {
  let slow = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (c === 0) continue;
    const lower = i === 0 ? 0 : h.bounds[i - 1]!;
    const upper = i < h.bounds.length ? h.bounds[i]! : Number.POSITIVE_INFINITY;
    if (lower >= limit) slow += c;
    else if (upper > limit)
      slow += upper === Number.POSITIVE_INFINITY ? c : (c * (upper - limit)) / (upper - lower);
  }
  return slow;
}
