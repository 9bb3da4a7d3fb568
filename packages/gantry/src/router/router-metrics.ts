import { type Metric, Registry } from "prom-client";
import { latencyBucketsSeconds } from "./latency-buckets.ts";

const classes = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/** One service and version's counts: requests by status class, and the latency histogram. */
class RequestSeries {
  readonly service: string;
  readonly version: string;
  readonly byClass = new Float64Array(classes.length);
  /** Requests per latency bucket (not cumulative); the last one is above every bound. */
  readonly buckets = new Float64Array(latencyBucketsSeconds.length + 1);
  sum = 0;
  count = 0;

  constructor(service: string, version: string) {
    this.service = service;
    this.version = version;
  }
}

/**
 * Requests by service, version and status class, and their latency: the series every
 * analysis and dashboard reads. Counted here in plain arrays, two map lookups per request
 * (prom-client's own counters and histograms hash their labels on every increment, a tenth
 * of the router's time per request), and handed to prom-client as its metric objects at
 * scrape time, so the exposition is prom-client's.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly #series = new Map<string, Map<string, RequestSeries>>();

  constructor() {
    this.registry.registerMetric(
      collected(
        "gantry_http_requests_total",
        "Requests answered by the router, by service, version and status class",
        "counter",
        () =>
          this.#all().flatMap((s) =>
            classes.flatMap((code, i) =>
              s.byClass[i]! > 0
                ? [{ labels: { service: s.service, version: s.version, code }, value: s.byClass[i]! }]
                : [],
            ),
          ),
      ),
    );
    const name = "gantry_http_request_duration_seconds";
    this.registry.registerMetric(
      collected(name, "Time from request to response headers, by service and version", "histogram", () =>
        this.#all().flatMap((s) => {
          const labels = { service: s.service, version: s.version };
          let cumulative = 0;
          const buckets = latencyBucketsSeconds.map((le, i) => {
            cumulative += s.buckets[i]!;
            return { labels: { le, ...labels }, value: cumulative, metricName: `${name}_bucket` };
          });
          return [
            ...buckets,
            { labels: { le: "+Inf", ...labels }, value: s.count, metricName: `${name}_bucket` },
            { labels, value: s.sum, metricName: `${name}_sum` },
            { labels, value: s.count, metricName: `${name}_count` },
          ];
        }),
      ),
    );
  }

  record(service: string, version: string, status: number, seconds: number): void {
    let byVersion = this.#series.get(service);
    if (!byVersion) {
      byVersion = new Map();
      this.#series.set(service, byVersion);
    }
    let series = byVersion.get(version);
    if (!series) {
      series = new RequestSeries(service, version);
      byVersion.set(version, series);
    }
    series.byClass[status >= 100 && status < 600 ? ((status / 100) | 0) - 1 : 4]! += 1;
    let bucket = 0;
    while (bucket < latencyBucketsSeconds.length && seconds > latencyBucketsSeconds[bucket]!) bucket++;
    series.buckets[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  #all(): RequestSeries[] {
    return [...this.#series.values()].flatMap((byVersion) => [...byVersion.values()]);
  }
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric whose samples are read from the router's counts when Prometheus scrapes. */
function collected(
  name: string,
  help: string,
  type: "counter" | "histogram",
  samples: () => Sample[],
): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({ name, help, type, aggregator: "sum", values: samples() }),
  };
  return metric as unknown as Metric;
}
