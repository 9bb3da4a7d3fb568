import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  cohortBucket,
  cohortVersion,
  cookieValue,
  type RouteCohorts,
  signPin,
  userKeyOf,
  verifyPin,
} from "./cohorts.ts";
import { readRequestHead } from "./http1/heads.ts";
import type { ServiceRoute } from "./policy.ts";
import { CompiledRoute } from "./route-table.ts";

const cohorts = (over: Partial<RouteCohorts> = {}): RouteCohorts => ({
  stable: "v1",
  candidate: "v2",
  userKey: { header: "x-user", cookie: "uid" },
  groups: [],
  percent: 0,
  salt: "v2",
  ...over,
});

describe("phased cohorts", () => {
  it("reads the user key from the header first, then the cookie", () => {
    const c = cohorts();
    expect(userKeyOf(c, ["X-User", "alice", "Cookie", "uid=bob"])).toBe("alice");
    expect(userKeyOf(c, ["Cookie", "theme=dark; uid=bob ; x=1"])).toBe("bob");
    expect(userKeyOf(c, ["Cookie", "uidx=bob"])).toBeUndefined();
    expect(cookieValue(["cookie", "a=1", "cookie", "b=2"], "b")).toBe("2");
  });

  it("sends members of a group to the candidate, by header, cookie or user key", () => {
    const c = cohorts({
      groups: [
        { name: "internal", headers: { "x-staff": ["1"] }, cookies: {}, users: [] },
        { name: "beta", headers: {}, cookies: { beta: ["yes"] }, users: ["carol"] },
      ],
    });
    expect(cohortVersion("web", c, ["X-Staff", "1"])).toBe("v2");
    expect(cohortVersion("web", c, ["X-Staff", "0"])).toBe("v1");
    expect(cohortVersion("web", c, ["Cookie", "beta=yes"])).toBe("v2");
    expect(cohortVersion("web", c, ["X-User", "carol"])).toBe("v2");
    expect(cohortVersion("web", c, ["X-User", "dave"])).toBe("v1");
    expect(cohortVersion("web", c, [])).toBe("v1");
  });

  it("gives a percentage of users the candidate, each user always the same version", () => {
    const c = cohorts({ percent: 10 });
    const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
    const first = users.map((u) => cohortVersion("web", c, ["x-user", u]));
    const share = first.filter((v) => v === "v2").length / users.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    expect(users.map((u) => cohortVersion("web", c, ["x-user", u]))).toEqual(first);
    // Users without a key stay on stable.
    expect(cohortVersion("web", c, [])).toBe("v1");
  });

  it("keeps everyone who had the candidate when the percentage grows", () => {
    const users = Array.from({ length: 5000 }, (_, i) => `ü-${i}`);
    const at10 = users.filter((u) => cohortVersion("web", cohorts({ percent: 10 }), ["x-user", u]) === "v2");
    const at50 = new Set(
      users.filter((u) => cohortVersion("web", cohorts({ percent: 50 }), ["x-user", u]) === "v2"),
    );
    expect(at10.every((u) => at50.has(u))).toBe(true);
  });

  it("hashes as the flags do: murmur3 of service, salt and key", () => {
    // docs/flags-hashing.md: bucket = murmur3_x86_32("KEY.SALT.VALUE", seed 0) mod 100000.
    expect(cohortBucket("web", "v2", "alice")).toBe(cohortBucket("web", "v2", "alice"));
    expect(cohortBucket("web", "v2", "alice")).not.toBe(cohortBucket("web", "v3", "alice"));
  });
});

describe("pin tickets", () => {
  const key = randomBytes(32);
  const now = Date.parse("2026-12-01T12:00:00Z");
  const inAnHour = now / 1000 + 3600;

  it("pin a version of one service until they expire", () => {
    const ticket = signPin(key, "web", "v2.1.0", inAnHour);
    expect(verifyPin(key, "web", ticket, now)).toBe("v2.1.0");
    expect(verifyPin(key, "api", ticket, now)).toBeUndefined();
    expect(verifyPin(key, "web", ticket, inAnHour * 1000)).toBeUndefined();
  });

  it("cannot be forged or altered", () => {
    const ticket = signPin(key, "web", "v2", inAnHour);
    expect(verifyPin(randomBytes(32), "web", ticket, now)).toBeUndefined();
    expect(verifyPin(key, "web", ticket.replace("v2.", "v3."), now)).toBeUndefined();
    expect(verifyPin(key, "web", ticket.replace(`.${inAnHour}.`, `.${inAnHour + 1}.`), now)).toBeUndefined();
    for (const bad of ["", "v2", "v2.x.y", ".1.2", "v2..sig"])
      expect(verifyPin(key, "web", bad, now)).toBeUndefined();
  });
});

/** A request head as the router reads it (the pin ticket picked out in the same pass). */
const h = (headers: string[]) => readRequestHead("GET", "/", 1, headers, true);

describe("choosing an instance", () => {
  const key = randomBytes(32);
  const route = (over: Partial<ServiceRoute> = {}) =>
    new CompiledRoute({
      service: "web",
      hosts: [],
      pathPrefix: "/",
      isDefault: true,
      mode: "normal",
      maintenance: { retryAfterSeconds: 5, contentType: "text/plain", body: "" },
      backends: [
        { version: "v1", weight: 100, instances: [{ id: "v1-1", host: "127.0.0.1", port: 1 }] },
        { version: "v2", weight: 0, instances: [{ id: "v2-1", host: "127.0.0.1", port: 2 }] },
      ],
      pinKey: key.toString("base64"),
      ...over,
    });
  const all = () => true;

  it("follows a valid pin even to a version without weight, and ignores a bad one", () => {
    const r = route();
    const ticket = signPin(key, "web", "v2", Date.now() / 1000 + 60);
    expect(r.choose(h(["X-Gantry-Pin", ticket]), all, Date.now())?.backend.version).toBe("v2");
    expect(r.choose(h(["X-Gantry-Pin", `${ticket}x`]), all, Date.now())?.backend.version).toBe("v1");
    expect(
      route({ pinKey: null }).choose(h(["X-Gantry-Pin", ticket]), all, Date.now())?.backend.version,
    ).toBe("v1");
  });

  it("routes by cohort, and to stable when the cohort's version has no usable instance", () => {
    const r = route({
      cohorts: cohorts({
        groups: [{ name: "staff", headers: { "x-staff": ["1"] }, cookies: {}, users: [] }],
      }),
    });
    expect(r.choose(h(["x-staff", "1"]), all, Date.now())?.backend.version).toBe("v2");
    expect(r.choose(h([]), all, Date.now())?.backend.version).toBe("v1");
    expect(r.choose(h(["x-staff", "1"]), (u) => u.id !== "v2-1", Date.now())?.backend.version).toBe("v1");
  });
});
