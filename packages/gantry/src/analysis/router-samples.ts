import type { VersionSample } from "./judge.ts";

/**
 * Reads the router's Prometheus exposition (gantry_http_requests_total and
 * gantry_http_request_duration_seconds) into one cumulative sample per version of a
 * service. Latency bounds become milliseconds; errors are the 5xx class.
 */
export function routerSamples(text: string, service: string): Map<string, VersionSample> {
  const byVersion = new Map<string, { requests: number; errors: number; buckets: Map<number, number> }>();
  const entry = (version: string) => {
    let e = byVersion.get(version);
    if (!e) {
      e = { requests: 0, errors: 0, buckets: new Map() };
      byVersion.set(version, e);
    }
    return e;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("gantry_http_requests_total{")) {
      const { labels, value } = parseSample(line);
      if (labels.service !== service || labels.version === undefined) continue;
      const e = entry(labels.version);
      e.requests += value;
      if (labels.code === "5xx") e.errors += value;
    } else if (line.startsWith("gantry_http_request_duration_seconds_bucket{")) {
      const { labels, value } = parseSample(line);
      if (labels.service !== service || labels.version === undefined || labels.le === undefined) continue;
      const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le) * 1000;
      entry(labels.version).buckets.set(le, value);
    }
  }
  const samples = new Map<string, VersionSample>();
  for (const [version, e] of byVersion) {
    const bounds = [...e.buckets.keys()].filter(Number.isFinite).sort((a, b) => a - b);
    // Buckets are cumulative in the exposition; the judges want counts per bucket.
    const cumulative = [
      ...bounds.map((b) => e.buckets.get(b)!),
      e.buckets.get(Number.POSITIVE_INFINITY) ?? 0,
    ];
    const counts = cumulative.map((c, i) => Math.max(0, c - (i === 0 ? 0 : cumulative[i - 1]!)));
    samples.set(version, { requests: e.requests, errors: e.errors, latency: { bounds, counts } });
  }
  return samples;
}

/** What a version served between two cumulative samples (a version absent before counts from zero). */
export function sampleDelta(later: VersionSample, earlier: VersionSample | undefined): VersionSample {
  // A router that restarted counts from zero again: what it has is all since then.
  const reset = earlier !== undefined && later.requests < earlier.requests;
  if (!earlier || reset || earlier.latency.counts.length !== later.latency.counts.length) return later;
  return {
    requests: later.requests - earlier.requests,
    errors: later.errors - earlier.errors,
    latency: {
      bounds: later.latency.bounds,
      counts: later.latency.counts.map((c, i) => c - earlier.latency.counts[i]!),
    },
  };
}

export function emptySample(bounds: readonly number[]): VersionSample {
  return { requests: 0, errors: 0, latency: { bounds, counts: new Array(bounds.length + 1).fill(0) } };
}

function parseSample(line: string): { labels: Record<string, string>; value: number } {
  const close = line.lastIndexOf("}");
  const labels: Record<string, string> = {};
  const body = line.slice(line.indexOf("{") + 1, close);
  for (const match of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  return {
    labels,
    value: Number(
      line
        .slice(close + 1)
        .trim()
        .split(" ")[0],
    ),
  };
}
