import { describe, expect, it } from "vitest";
import { serviceSpec } from "../config/index.ts";
import { buildRouterPolicy, type InstanceView } from "./build-policy.ts";

const spec = serviceSpec.parse({
  command: "node server.ts",
  route: { hosts: ["demo.localhost"], default: true },
});
const instance = (id: string, version: string, serving = true): InstanceView => ({
  id,
  service: "demo",
  version,
  port: 9000 + Number(id.at(-1)),
  serving,
});

describe("router policy", () => {
  it("spreads traffic evenly over every serving instance while a rolling deploy runs", () => {
    const policy = buildRouterPolicy(
      3,
      [{ name: "demo", spec, traffic: "by-instances", mode: "normal" }],
      [instance("a1", "v1"), instance("a2", "v1"), instance("b3", "v2"), instance("b4", "v2", false)],
    );
    const route = policy.services[0]!;
    expect(route.hosts).toEqual(["demo.localhost"]);
    expect(route.isDefault).toBe(true);
    expect(route.backends.map((b) => [b.version, b.weight, b.instances.map((i) => i.id)])).toEqual([
      ["v1", 2, ["a1", "a2"]],
      ["v2", 1, ["b3"]],
    ]);
  });

  it("gives no share to a version without a serving instance, so no request goes nowhere", () => {
    const policy = buildRouterPolicy(
      1,
      [
        {
          name: "demo",
          spec,
          traffic: [
            { version: "v1", weight: 100 },
            { version: "v2", weight: 0 },
          ],
          mode: "normal",
        },
      ],
      [instance("a1", "v1", false), instance("b2", "v2")],
    );
    expect(policy.services[0]!.backends).toEqual([]);
  });

  it("carries the maintenance page with Retry-After in whole seconds", () => {
    const policy = buildRouterPolicy(1, [{ name: "demo", spec, traffic: [], mode: "maintenance" }], []);
    expect(policy.services[0]!.mode).toBe("maintenance");
    expect(policy.services[0]!.maintenance.retryAfterSeconds).toBe(5);
  });
});
