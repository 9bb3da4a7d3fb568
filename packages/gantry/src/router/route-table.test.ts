import { describe, expect, it } from "vitest";
import { defaultMaintenancePage, type ServiceRoute } from "./policy.ts";
import { normalizeHost, prefixMatches, RouteTable } from "./route-table.ts";

const route = (service: string, over: Partial<ServiceRoute> = {}): ServiceRoute => ({
  service,
  hosts: [],
  pathPrefix: "/",
  isDefault: false,
  mode: "normal",
  maintenance: defaultMaintenancePage,
  backends: [{ version: "v1", weight: 1, instances: [{ id: `${service}-1`, host: "127.0.0.1", port: 1 }] }],
  ...over,
});

describe("route table", () => {
  const table = new RouteTable({
    revision: 1,
    services: [
      route("web", { hosts: ["web.localhost"] }),
      route("api", { hosts: ["web.localhost"], pathPrefix: "/api" }),
      route("fallback", { hosts: ["other.localhost"], isDefault: true }),
    ],
  });

  it("matches the host without port and case, then the longest path prefix", () => {
    expect(table.match("WEB.localhost:8080", "/")?.spec.service).toBe("web");
    expect(table.match("web.localhost", "/api/users")?.spec.service).toBe("api");
    expect(table.match("web.localhost", "/apix")?.spec.service).toBe("web");
  });

  it("sends what nothing matches to the default route", () => {
    expect(table.match("unknown.example", "/")?.spec.service).toBe("fallback");
    expect(
      new RouteTable({ revision: 1, services: [route("web", { hosts: ["a"] })] }).match("b", "/"),
    ).toBeUndefined();
  });

  it("normalises hosts and prefixes as documented", () => {
    expect(normalizeHost("[::1]:8080")).toBe("[::1]");
    expect(prefixMatches("/api", "/api?x=1")).toBe(true);
    expect(prefixMatches("/api/", "/api/x")).toBe(true);
  });
});

describe("weighted choice", () => {
  const instances = (v: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `${v}-${i}`, host: "h", port: i + 1 }));

  it("gives each version exactly its share, interleaved", () => {
    const table = new RouteTable({
      revision: 1,
      services: [
        route("web", {
          backends: [
            { version: "v1", weight: 90, instances: instances("v1", 2) },
            { version: "v2", weight: 10, instances: instances("v2", 1) },
          ],
        }),
      ],
    });
    const r = table.match("", "/")!;
    const counts: Record<string, number> = { v1: 0, v2: 0 };
    for (let i = 0; i < 1000; i++) counts[r.pick(() => true)!.backend.version]! += 1;
    expect(counts).toEqual({ v1: 900, v2: 100 });
  });

  it("skips unusable instances and versions, and answers nothing when none is usable", () => {
    const table = new RouteTable({
      revision: 1,
      services: [
        route("web", {
          backends: [
            { version: "v1", weight: 50, instances: instances("v1", 2) },
            { version: "v2", weight: 50, instances: instances("v2", 1) },
          ],
        }),
      ],
    });
    const r = table.match("", "/")!;
    const picked = new Set(Array.from({ length: 10 }, () => r.pick((u) => u.id !== "v1-0")!.upstream.id));
    expect(picked).toEqual(new Set(["v1-1", "v2-0"]));
    expect(r.pick(() => false)).toBeUndefined();
    expect(r.pick(() => true, new Set(["v1-0", "v1-1"]))!.upstream.id).toBe("v2-0");
  });

  it("ignores versions with weight 0", () => {
    const table = new RouteTable({
      revision: 1,
      services: [
        route("web", {
          backends: [
            { version: "v1", weight: 0, instances: instances("v1", 1) },
            { version: "v2", weight: 1, instances: instances("v2", 1) },
          ],
        }),
      ],
    });
    const r = table.match("", "/")!;
    expect(new Set(Array.from({ length: 5 }, () => r.pick(() => true)!.backend.version))).toEqual(
      new Set(["v2"]),
    );
  });
});
