export { type CounterQuery, counterQuery } from "./counter-query.ts";
export {
  instantQuery,
  instantVector,
  type PromSample,
  type PromSeries,
  prometheusValue,
  rangeQuery,
} from "./prometheus-client.ts";
