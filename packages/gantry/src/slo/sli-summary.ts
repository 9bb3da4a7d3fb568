import { quantile } from "../analysis/index.ts";
import { latencyBucketsSeconds } from "../router/latency-buckets.ts";
import { coarseTier, fineTier, type SliStore } from "./sli-store.ts";

/** What one version served over a window: the SLIs a person looks at. */
export interface VersionSli {
  version: string;
  requests: number;
  /** Requests per second over the window. */
  rps: number;
  /** Share of requests not 5xx; null without requests. */
  availability: number | null;
  /** Latency percentiles in ms (interpolated in the router's buckets); null without requests. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** CPU cores used on average by its instances; null when the runtime did not say. */
  cpuCores: number | null;
  /** Resident memory of its instances at the last sample, bytes. */
  rssBytes: number | null;
}

const boundsMs = latencyBucketsSeconds.map((s) => s * 1000);

/** Per-version SLIs of a service over (now - window, now], from fine points when they reach back far enough. */
export async function serviceSlis(
  store: SliStore,
  service: string,
  window: number,
  now: number,
): Promise<VersionSli[]> {
  const tier = window <= store.settings.fineFor ? fineTier : coarseTier;
  const points = await store.points({ service, tier, from: now - window, to: now });
  const byVersion = new Map<
    string,
    { requests: number; errors: number; latency: Map<number, number>; cpu: number | null; rss: number | null }
  >();
  for (const p of points) {
    const v = byVersion.get(p.version) ?? {
      requests: 0,
      errors: 0,
      latency: new Map(),
      cpu: null,
      rss: null,
    };
    v.requests += p.requests;
    v.errors += p.errors;
    for (const [le, n] of p.latency) v.latency.set(le, (v.latency.get(le) ?? 0) + n);
    if (p.cpuSeconds !== null) v.cpu = (v.cpu ?? 0) + p.cpuSeconds;
    if (p.rssBytes !== null) v.rss = p.rssBytes;
    byVersion.set(p.version, v);
  }
  return [...byVersion.entries()]
    .map(([version, v]) => {
      const histogram = {
        bounds: boundsMs,
        counts: [...boundsMs.map((b) => v.latency.get(b) ?? 0), v.latency.get(Number.POSITIVE_INFINITY) ?? 0],
      };
      return {
        version,
        requests: v.requests,
        rps: v.requests / (window / 1000),
        availability: v.requests === 0 ? null : (v.requests - v.errors) / v.requests,
        p50: quantile(histogram, 0.5),
        p90: quantile(histogram, 0.9),
        p99: quantile(histogram, 0.99),
        cpuCores: v.cpu === null ? null : v.cpu / (window / 1000),
        rssBytes: v.rss,
      };
    })
    .sort((a, b) => a.version.localeCompare(b.version));
}
