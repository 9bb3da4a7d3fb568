import { Counter, Histogram, Registry } from "prom-client";
import { latencyBucketsSeconds } from "./latency-buckets.ts";

type Child = { inc(): void };
type Observer = { observe(value: number): void };

/**
 * Requests by service, version and status class, and their latency: the series every
 * analysis and dashboard reads. Label children are cached so the hot path does no lookups.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<"service" | "version" | "code">;
  readonly #duration: Histogram<"service" | "version">;
  readonly #counters = new Map<string, Child>();
  readonly #histograms = new Map<string, Observer>();

  constructor() {
    this.#requests = new Counter({
      name: "gantry_http_requests_total",
      help: "Requests answered by the router, by service, version and status class",
      labelNames: ["service", "version", "code"],
      registers: [this.registry],
    });
    this.#duration = new Histogram({
      name: "gantry_http_request_duration_seconds",
      help: "Time from request to response headers, by service and version",
      labelNames: ["service", "version"],
      buckets: [...latencyBucketsSeconds],
      registers: [this.registry],
    });
  }

  record(service: string, version: string, status: number, seconds: number): void {
    const code = status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "5xx";
    const key = `${service}\0${version}\0${code}`;
    let counter = this.#counters.get(key);
    if (!counter) {
      counter = this.#requests.labels({ service, version, code });
      this.#counters.set(key, counter);
    }
    counter.inc();
    const hkey = `${service}\0${version}`;
    let histogram = this.#histograms.get(hkey);
    if (!histogram) {
      histogram = this.#duration.labels({ service, version });
      this.#histograms.set(hkey, histogram);
    }
    histogram.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
