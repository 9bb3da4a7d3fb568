import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bucketOf } from "../flags/index.ts";
import { RecordingPublisher } from "./recording-publisher.ts";
import { stickyBucket } from "./sampling.ts";
import { Scientist } from "./scientist.ts";
import type { Enabled, ExperimentContext, FlagEvaluator } from "./types.ts";

/** A small real flags evaluator: percentage rollouts, sticky by SHA-1 of flag and targeting key. */
class PercentageFlags implements FlagEvaluator {
  readonly asked: { flagKey: string; context: ExperimentContext }[] = [];
  private readonly rollouts: Record<string, number>;

  constructor(rollouts: Record<string, number>) {
    this.rollouts = rollouts;
  }

  isEnabled(flagKey: string, context: ExperimentContext): boolean {
    this.asked.push({ flagKey, context });
    const percent = this.rollouts[flagKey];
    if (percent === undefined) return false;
    const digest = createHash("sha1")
      .update(`${flagKey}/${String(context["targetingKey"])}`)
      .digest();
    return digest.readUInt32BE(0) % 100 < percent;
  }
}

function setUp(flags?: FlagEvaluator) {
  const publisher = new RecordingPublisher();
  const raised: string[] = [];
  const scientist = new Scientist({ publisher, flags, raised: (_, { operation }) => raised.push(operation) });
  /** Runs one call for a user; true when the candidate ran. */
  const runFor = (enabled: Enabled, targetingKey?: string, name = "sampled"): boolean => {
    let candidateRan = false;
    scientist.scienceSync(name, (e) => {
      e.use(() => 1);
      e.try(() => {
        candidateRan = true;
        return 1;
      });
      e.enabled(enabled);
      if (targetingKey !== undefined) e.context({ targetingKey });
    });
    return candidateRan;
  };
  return { scientist, publisher, raised, runFor };
}

const users = Array.from({ length: 4000 }, (_, i) => `user-${i}`);

describe("enabled", () => {
  it("never runs the candidate when false or 0%, always when true or 100%", () => {
    const { runFor, publisher } = setUp();
    expect(users.slice(0, 50).some((user) => runFor(false, user) || runFor(0, user))).toBe(false);
    expect(publisher.results).toHaveLength(0);
    expect(users.slice(0, 50).every((user) => runFor(true, user) && runFor(100, user))).toBe(true);
  });

  it("samples a percentage stickily by targetingKey: the same user always gets the same answer", () => {
    const { runFor } = setUp();
    const first = users.map((user) => runFor(25, user));
    const again = users.map((user) => runFor(25, user));
    expect(again).toEqual(first);
    const share = first.filter(Boolean).length / users.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.28);
  });

  it("salts the sticky hash with the experiment name, so one user is not in every sample", () => {
    const { runFor } = setUp();
    const inA = users.map((user) => runFor(50, user, "experiment-a"));
    const inB = users.map((user) => runFor(50, user, "experiment-b"));
    const same = inA.filter((ran, i) => ran === inB[i]).length / users.length;
    expect(same).toBeGreaterThan(0.45);
    expect(same).toBeLessThan(0.55);
  });

  it("samples a percentage at random when there is no targetingKey", () => {
    const { runFor } = setUp();
    const runs = Array.from({ length: 4000 }, () => runFor(10));
    const share = runs.filter(Boolean).length / runs.length;
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
  });

  it("passes the experiment's context to an enabled function", () => {
    const { runFor } = setUp();
    const onlyStaff = (context: ExperimentContext) => String(context["targetingKey"]).startsWith("staff-");
    expect([runFor(onlyStaff, "staff-1"), runFor(onlyStaff, "user-1")]).toEqual([true, false]);
  });

  it("follows a Gantry flag: the experiment runs exactly for the users the flag is on for", () => {
    const flags = new PercentageFlags({ "new-permissions": 30 });
    const { runFor } = setUp(flags);
    const ran = users.map((user) => runFor("flag:new-permissions", user));
    const expected = users.map((user) => flags.isEnabled("new-permissions", { targetingKey: user }));
    expect(ran).toEqual(expected);
    expect(flags.asked[0]).toEqual({ flagKey: "new-permissions", context: { targetingKey: "user-0" } });
  });

  it("skips the experiment and reports it when a flag is named but no evaluator is configured", () => {
    const { runFor, raised } = setUp();
    expect(runFor("flag:new-permissions", "user-1")).toBe(false);
    expect(raised).toEqual(["enabled"]);
  });

  it("publishes the configured sample share, or null when it is not known up front", () => {
    const { runFor, publisher } = setUp(new PercentageFlags({ on: 100 }));
    runFor(true, "u");
    runFor(100, "u");
    runFor(() => true, "u");
    runFor("flag:on", "u");
    const alwaysSampled = users.find((user) => stickyBucket("sampled", user) < 25_000)!;
    runFor(25, alwaysSampled);
    expect(publisher.results.map((r) => r.sampled)).toEqual([1, 1, null, null, 0.25]);
  });
});

describe("stickyBucket", () => {
  it("is the flags' bucket of name.scientist.key (docs/flags-hashing.md)", () => {
    expect(stickyBucket("checkout", "user-42")).toBe(bucketOf("checkout.scientist.user-42"));
  });

  it("spreads keys evenly over the buckets", () => {
    const tenths = new Array(10).fill(0);
    for (const user of users) tenths[Math.floor(stickyBucket("spread", user) / 10_000)]++;
    for (const count of tenths) expect(Math.abs(count - 400)).toBeLessThan(80);
  });
});
