import type { VersionSample } from "./judge.ts";

/**
 * Reads the router's Prometheus exposition (gantry_http_requests_total and
 * gantry_http_request_duration_seconds) into one cumulative sample per version of a
 * service. Latency bounds become milliseconds; errors are the 5xx class.
 */
export function routerSamples(text: string, service: string): Map<string, VersionSample> {
  return routerSamplesByService(text, service).get(service) ?? new Map();
}

/** The same for every service in the exposition (or only `only`): service → version → sample. */
export function routerSamplesByService(text: string, only?: string): Map<string, Map<string, VersionSample>> {
  type Entry = { requests: number; errors: number; buckets: Map<number, number> };
  const byKey = new Map<string, Map<string, Entry>>();
  const entry = (service: string, version: string) => {
    let versions = byKey.get(service);
    if (!versions) {
      versions = new Map();
      byKey.set(service, versions);
    }
    let e = versions.get(version);
    if (!e) {
      e = { requests: 0, errors: 0, buckets: new Map() };
      versions.set(version, e);
    }
    return e;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("gantry_http_requests_total{")) {
      const { labels, value } = parseSample(line);
      if (labels.service === undefined || labels.version === undefined) continue;
      if (only !== undefined && labels.service !== only) continue;
      const e = entry(labels.service, labels.version);
      e.requests += value;
      if (labels.code === "5xx") e.errors += value;
    } else if (line.startsWith("gantry_http_request_duration_seconds_bucket{")) {
      const { labels, value } = parseSample(line);
      if (labels.service === undefined || labels.version === undefined || labels.le === undefined) continue;
      if (only !== undefined && labels.service !== only) continue;
      const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le) * 1000;
      entry(labels.service, labels.version).buckets.set(le, value);
    }
  }
  const out = new Map<string, Map<string, VersionSample>>();
  for (const [service, versions] of byKey) {
    const samples = new Map<string, VersionSample>();
    for (const [version, e] of versions) {
      const bounds = [...e.buckets.keys()].filter(Number.isFinite).sort((a, b) => a - b);
      // Buckets are cumulative in the exposition; the judges want counts per bucket.
      const cumulative = [
        ...bounds.map((b) => e.buckets.get(b)!),
        e.buckets.get(Number.POSITIVE_INFINITY) ?? 0,
      ];
      const counts = cumulative.map((c, i) => Math.max(0, c - (i === 0 ? 0 : cumulative[i - 1]!)));
      samples.set(version, { requests: e.requests, errors: e.errors, latency: { bounds, counts } });
    }
    out.set(service, samples);
  }
  return out;
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
