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
    // v2 is listed without a share: only a pinned request (X-Gantry-Pin) may reach it.
    expect(policy.services[0]!.backends.map((b) => [b.version, b.weight])).toEqual([["v2", 0]]);
  });

  it("routes by cohorts during a phased rollout, stable taking whatever the candidate cannot", () => {
    const cohorts = {
      stable: "v1",
      candidate: "v2",
      userKey: { header: "x-user-id" },
      groups: [{ name: "staff", headers: { "x-staff": ["1"] }, cookies: {}, users: [] }],
      percent: 10,
      salt: "v2",
    };
    const policy = buildRouterPolicy(
      1,
      [{ name: "demo", spec, traffic: { cohorts }, mode: "normal" }],
      [instance("a1", "v1"), instance("b2", "v2")],
      new Date(),
      "a".repeat(44),
    );
    const route = policy.services[0]!;
    expect(route.cohorts).toEqual(cohorts);
    expect(route.pinKey).toBe("a".repeat(44));
    expect(route.backends.map((b) => [b.version, b.weight])).toEqual([
      ["v1", 100],
      ["v2", 0],
    ]);
  });

  it("carries the maintenance page with Retry-After in whole seconds", () => {
    const policy = buildRouterPolicy(1, [{ name: "demo", spec, traffic: [], mode: "maintenance" }], []);
    expect(policy.services[0]!.mode).toBe("maintenance");
    expect(policy.services[0]!.maintenance.retryAfterSeconds).toBe(5);
  });
});
