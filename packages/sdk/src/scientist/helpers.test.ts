import { describe, expect, it } from "vitest";
import { MismatchError } from "./errors.ts";
import { RecordingPublisher } from "./recording-publisher.ts";
import { Scientist } from "./scientist.ts";
import { toWireResult } from "./wire-result.ts";

function setUp() {
  const publisher = new RecordingPublisher();
  const raised: { error: unknown; operation: string; experiment: string }[] = [];
  const scientist = new Scientist({
    publisher,
    raised: (error, { experiment, operation }) => raised.push({ error, operation, experiment }),
  });
  return { scientist, publisher, raised };
}

describe("comparing", () => {
  it("matches equal structures by default, not only identical references", () => {
    const { scientist, publisher } = setUp();
    scientist.scienceSync("deep", (e) => {
      e.use(() => ({ id: 1, roles: ["read", "write"] }));
      e.try(() => ({ id: 1, roles: ["read", "write"] }));
    });
    expect(publisher.results[0]!.matched).toEqual(["candidate"]);
  });

  it("uses the experiment's compare", () => {
    const { scientist, publisher } = setUp();
    scientist.scienceSync<string>("case-insensitive", (e) => {
      e.use(() => "Alice");
      e.try(() => "alice");
      e.compare((a, b) => a.toLowerCase() === b.toLowerCase());
    });
    expect(publisher.results[0]!.matched).toEqual(["candidate"]);
  });

  it("matches two errors of the same class and message by default, and uses compareErrors when given", () => {
    const { scientist, publisher } = setUp();
    const failing = (message: string) => () => {
      throw new RangeError(message);
    };
    expect(() =>
      scientist.scienceSync("same-error", (e) => {
        e.use(failing("out of range"));
        e.try(failing("out of range"));
      }),
    ).toThrow(RangeError);
    expect(() =>
      scientist.scienceSync("any-range-error", (e) => {
        e.use(failing("a"));
        e.try(failing("b"));
        e.compareErrors((a, b) => a instanceof RangeError && b instanceof RangeError);
      }),
    ).toThrow(RangeError);
    expect(publisher.results.map((r) => r.matched)).toEqual([["candidate"], ["candidate"]]);
  });
});

describe("ignoring mismatches", () => {
  it("ignores a mismatch when any of several predicates accepts it, and asks none for a match", () => {
    const { scientist, publisher } = setUp();
    const asked: string[] = [];
    for (const candidateValue of [5, 6, 7]) {
      scientist.scienceSync<number>("ignored", (e) => {
        e.use(() => 5);
        e.try(() => candidateValue);
        e.ignore((_, candidate) => {
          asked.push(`first:${candidate.value}`);
          return candidate.value === 6;
        });
        e.ignore((_, candidate) => {
          asked.push(`second:${candidate.value}`);
          return false;
        });
      });
    }
    expect(publisher.results.map((r) => [r.matched, r.ignored, r.mismatched])).toEqual([
      [["candidate"], [], []],
      [[], ["candidate"], []],
      [[], [], ["candidate"]],
    ]);
    expect(asked).toEqual(["first:6", "first:7", "second:7"]);
  });
});

describe("what gets published", () => {
  it("applies clean to published values and carries the context", () => {
    const { scientist, publisher } = setUp();
    scientist.scienceSync<{ id: number; secret: string }>("cleaned", (e) => {
      e.use(() => ({ id: 7, secret: "s3cr3t" }));
      e.try(() => ({ id: 7, secret: "s3cr3t" }));
      e.clean((user) => ({ id: user.id }));
      e.context({ route: "/users/7" }).context({ targetingKey: "user-7" });
    });
    const wire = toWireResult(publisher.results[0]!, () => {});
    expect(wire.control.value).toEqual({ id: 7 });
    expect(wire.candidates[0]!.value).toEqual({ id: 7 });
    expect(wire.context).toEqual({ route: "/users/7", targetingKey: "user-7" });
    expect(JSON.stringify(wire)).not.toContain("s3cr3t");
  });
});

describe("runIf and beforeRun", () => {
  it("runs only the control when runIf says no, and skips beforeRun then", () => {
    const { scientist, publisher } = setUp();
    const ran: string[] = [];
    scientist.scienceSync("run-if", (e) => {
      e.use(() => ran.push("control"));
      e.try(() => ran.push("candidate"));
      e.runIf(() => false);
      e.beforeRun(() => ran.push("beforeRun"));
    });
    expect(ran).toEqual(["control"]);
    expect(publisher.results).toHaveLength(0);
  });

  it("calls beforeRun once before the behaviours when the experiment runs", () => {
    const { scientist } = setUp();
    const ran: string[] = [];
    scientist.scienceSync("before-run", (e) => {
      e.use(() => ran.push("control"));
      e.try(() => ran.push("candidate"));
      e.beforeRun(() => ran.push("beforeRun"));
    });
    expect(ran[0]).toBe("beforeRun");
    expect(ran.toSorted()).toEqual(["beforeRun", "candidate", "control"]);
  });
});

describe("raiseOnMismatches", () => {
  it("throws a MismatchError carrying the result, for tests", async () => {
    const { scientist } = setUp();
    const run = scientist.science("strict", (e) => {
      e.use(() => 1);
      e.try(() => 2);
      e.raiseOnMismatches();
    });
    await expect(run).rejects.toBeInstanceOf(MismatchError);
    await run.catch((error: MismatchError) => {
      expect(error.result.mismatched).toEqual(["candidate"]);
      expect(error.message).toMatch(/strict/);
    });
  });
});

describe("a helper that fails never reaches the caller", () => {
  const failing = (what: string) => () => {
    throw new Error(`${what} is broken`);
  };

  it.each([
    ["compare", "compare"],
    ["ignore", "ignore"],
    ["enabled", "enabled"],
    ["runIf", "runIf"],
    ["beforeRun", "beforeRun"],
  ] as const)("reports a throwing %s to raised and answers with the control", (helper, operation) => {
    const { scientist, raised } = setUp();
    const value = scientist.scienceSync<number>("fragile", (e) => {
      e.use(() => 1);
      e.try(() => 2);
      if (helper === "enabled") e.enabled(failing(helper));
      else e[helper](failing(helper));
    });
    expect(value).toBe(1);
    expect(raised).toEqual([{ error: new Error(`${helper} is broken`), operation, experiment: "fragile" }]);
  });

  it("reports a throwing publisher", () => {
    const raised: string[] = [];
    const scientist = new Scientist({
      publisher: { publish: failing("publisher") },
      raised: (_, { operation }) => raised.push(operation),
    });
    const value = scientist.scienceSync("publish-fails", (e) => {
      e.use(() => 1);
      e.try(() => 1);
    });
    expect(value).toBe(1);
    expect(raised).toEqual(["publish"]);
  });

  it("reports a promise returned inside scienceSync, and keeps its rejection quiet", async () => {
    const { scientist, raised } = setUp();
    const value = scientist.scienceSync<unknown>("sync-misuse", (e) => {
      e.use(() => 1);
      e.try(() => Promise.reject(new Error("async candidate")));
    });
    expect(value).toBe(1);
    expect(raised.map((r) => r.operation)).toEqual(["scienceSync"]);
    // An unhandled rejection would fail the test run.
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it("survives a raised hook that itself throws", () => {
    const scientist = new Scientist({
      raised: failing("raised"),
      publisher: { publish: failing("publisher") },
    });
    expect(
      scientist.scienceSync("double-fault", (e) => {
        e.use(() => "fine");
        e.try(() => "fine");
        e.compare(failing("compare"));
      }),
    ).toBe("fine");
  });
});
