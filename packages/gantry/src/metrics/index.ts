export { controlPlaneMetrics, type MetricsDeps } from "./control-plane-metrics.ts";
