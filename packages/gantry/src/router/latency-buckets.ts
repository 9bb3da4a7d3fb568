/**
 * Upper bounds of the router's latency histogram, in seconds. A latency SLI's threshold must
 * be one of them, so that good requests are counted exactly (as Prometheus' `le` label does).
 */
export const latencyBucketsSeconds: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);
