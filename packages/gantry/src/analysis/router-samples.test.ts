import { describe, expect, it } from "vitest";
import { RouterMetrics } from "../router/router-metrics.ts";
import { routerSamples, sampleDelta } from "./router-samples.ts";

describe("reading the router's metrics", () => {
  it("gives each version of a service its requests, 5xx and latency buckets in ms", async () => {
    const metrics = new RouterMetrics();
    for (let i = 0; i < 10; i++) metrics.record("web", "v1", 200, 0.003);
    metrics.record("web", "v1", 503, 0.2);
    for (let i = 0; i < 4; i++) metrics.record("web", "v2", 500, 0.04);
    metrics.record("web", "v2", 404, 20);
    metrics.record("api", "v1", 500, 0.001);
    const samples = routerSamples(await metrics.text(), "web");
    expect([...samples.keys()].sort()).toEqual(["v1", "v2"]);
    const v1 = samples.get("v1")!;
    expect(v1).toMatchObject({ requests: 11, errors: 1 });
    expect(v1.latency.bounds).toEqual([1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]);
    expect(v1.latency.counts).toEqual([0, 0, 10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    const v2 = samples.get("v2")!;
    expect(v2).toMatchObject({ requests: 5, errors: 4 });
    expect(v2.latency.counts.at(-1)).toBe(1); // 20 s: above the last bound
  });

  it("subtracts an earlier reading, so a step judges only its own traffic", async () => {
    const metrics = new RouterMetrics();
    metrics.record("web", "v1", 500, 0.003);
    const before = routerSamples(await metrics.text(), "web");
    metrics.record("web", "v1", 200, 0.003);
    metrics.record("web", "v2", 200, 0.003);
    const after = routerSamples(await metrics.text(), "web");
    expect(sampleDelta(after.get("v1")!, before.get("v1"))).toMatchObject({ requests: 1, errors: 0 });
    expect(sampleDelta(after.get("v1")!, before.get("v1")).latency.counts[2]).toBe(1);
    expect(sampleDelta(after.get("v2")!, before.get("v2")).requests).toBe(1);
  });
});
