import { describe, expect, it } from "vitest";
import { freezeSpec } from "../config/index.ts";
import { brokenDependants, deployRefusals } from "./release-gate.ts";

const base = {
  service: "web",
  version: "v5",
  lock: undefined,
  freezes: [],
  requires: {},
  live: { web: "v4", api: "v2.4.0" },
};

describe("deploy gate", () => {
  it("lets a deploy through when nothing stands in the way", () => {
    expect(deployRefusals(base)).toEqual([]);
  });

  it("names the lock and the freeze, both overridable by an admin", () => {
    const refusals = deployRefusals({
      ...base,
      lock: { reason: "migrating", actor: "ana", at: "2026-11-22T10:00:00Z" },
      freezes: [
        { spec: freezeSpec.parse({ name: "weekend", weekly: { from: "fri 15:00", to: "mon 08:00" } }) },
      ],
    });
    expect(refusals.map((r) => [r.kind, r.overridable])).toEqual([
      ["lock", true],
      ["freeze", true],
    ]);
    expect(refusals[1]!.message).toContain('release freeze "weekend" is in force');
  });

  it("refuses a release whose requirement the live versions do not meet, with the reason", () => {
    expect(deployRefusals({ ...base, requires: { api: ">=2.3" } })).toEqual([]);
    const [refusal] = deployRefusals({ ...base, requires: { api: ">=3" } });
    expect(refusal).toMatchObject({
      kind: "dependency",
      overridable: false,
      message: "web v5 requires api >=3, but api v2.4.0 is live",
    });
    expect(deployRefusals({ ...base, requires: { db: "^1" } })[0]!.message).toContain(
      "there is no service db",
    );
  });

  it("finds the dependants a rollback would break", () => {
    const dependants = [{ service: "web", version: "v5", requires: { api: ">=2.3" } }];
    expect(brokenDependants("api", "v2.2.0", dependants)).toEqual([
      "web v5 requires api >=2.3, but api v2.2.0 would be live",
    ]);
    expect(brokenDependants("api", "v2.3.1", dependants)).toEqual([]);
  });
});
