import { describe, expect, it } from "vitest";
import { CandidateTimeoutError, ScienceUsageError } from "./errors.ts";
import { RecordingPublisher } from "./recording-publisher.ts";
import { Scientist } from "./scientist.ts";

function setUp() {
  const publisher = new RecordingPublisher();
  const raised: { error: unknown; operation: string }[] = [];
  const scientist = new Scientist({
    publisher,
    raised: (error, { operation }) => raised.push({ error, operation }),
  });
  return { scientist, publisher, raised };
}

/** Notes that a behaviour ran and returns its value. */
const logged = <V>(log: string[], entry: string, value: V): V => {
  log.push(entry);
  return value;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the caller always gets the control", () => {
  it("returns the control's value when the candidate disagrees, and records the mismatch", async () => {
    const { scientist, publisher } = setUp();
    const value = await scientist.science<string>("greeting", (e) => {
      e.use(() => "hello");
      e.try(async () => "bonjour");
    });
    expect(value).toBe("hello");
    expect(publisher.results[0]).toMatchObject({ mismatched: ["candidate"], returned: "control" });
    expect(publisher.results[0]!.candidates[0]!.value).toBe("bonjour");
  });

  it("returns the control's value from scienceSync without any promise", () => {
    const { scientist, publisher } = setUp();
    const value = scientist.scienceSync<number>("sum", (e) => {
      e.use(() => 1 + 2);
      e.try(() => 3);
    });
    expect(value).toBe(3);
    expect(publisher.results[0]).toMatchObject({ matched: ["candidate"], mismatched: [] });
  });

  it("re-throws the control's exception unchanged, sync and async", async () => {
    const { scientist } = setUp();
    const boom = new RangeError("control failed");
    const sync = () =>
      scientist.scienceSync("throws", (e) => {
        e.use(() => {
          throw boom;
        });
        e.try(() => 1);
      });
    expect(sync).toThrow(boom);
    await expect(
      scientist.science("rejects", (e) => {
        e.use(async () => {
          throw boom;
        });
        e.try(() => 1);
      }),
    ).rejects.toBe(boom);
  });

  it("keeps a candidate's exception or rejection from the caller and records it", async () => {
    const { scientist, publisher } = setUp();
    const sync = scientist.scienceSync("candidate-throws", (e) => {
      e.use(() => "ok");
      e.try(() => {
        throw new TypeError("candidate bug");
      });
    });
    const async = await scientist.science("candidate-rejects", (e) => {
      e.use(() => "ok");
      e.try(() => Promise.reject(new TypeError("candidate bug")));
    });
    expect([sync, async]).toEqual(["ok", "ok"]);
    for (const result of publisher.results) {
      expect(result.candidates[0]).toMatchObject({ threw: true, error: new TypeError("candidate bug") });
      expect(result.mismatched).toEqual(["candidate"]);
    }
  });

  it("times out a candidate that does not settle, aborts its signal, and answers with the control", async () => {
    const { scientist, publisher } = setUp();
    let signal: AbortSignal | undefined;
    const started = performance.now();
    const value = await scientist.science<string>("slow-candidate", (e) => {
      e.use(() => "control");
      e.try((s) => {
        signal = s;
        return new Promise<string>(() => {});
      });
      e.timeout(50);
    });
    expect(value).toBe("control");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(CandidateTimeoutError);
    const candidate = publisher.results[0]!.candidates[0]!;
    expect(candidate).toMatchObject({ threw: true, timedOut: true });
    expect(candidate.durationMs).toBeGreaterThanOrEqual(49);
  });

  it("does not time out the control, however slow", async () => {
    const { scientist } = setUp();
    const value = await scientist.science<string>("slow-control", (e) => {
      e.use(async () => {
        await sleep(80);
        return "late but returned";
      });
      e.try(() => "fast");
      e.timeout(10);
    });
    expect(value).toBe("late but returned");
  });
});

describe("choosing the returned behaviour", () => {
  it("gives the caller the chosen candidate's value and exception, still compared with the control", async () => {
    const { scientist, publisher } = setUp();
    const value = await scientist.science<number>("switched", (e) => {
      e.use(() => 1);
      e.try("new", () => 2);
      e.returns("new");
    });
    expect(value).toBe(2);
    expect(publisher.results[0]).toMatchObject({ returned: "new", mismatched: ["new"] });
    const failure = new Error("new path failed");
    expect(() =>
      scientist.scienceSync("switched", (e) => {
        e.use(() => 1);
        e.try("new", () => {
          throw failure;
        });
        e.returns("new");
      }),
    ).toThrow(failure);
  });

  it("runs only the chosen behaviour when the experiment is disabled", () => {
    const { scientist } = setUp();
    const ran: string[] = [];
    const value = scientist.scienceSync<string>("switched-off", (e) => {
      e.use(() => logged(ran, "control", "old"));
      e.try("new", () => logged(ran, "new", "new"));
      e.returns("new").enabled(false);
    });
    expect(value).toBe("new");
    expect(ran).toEqual(["new"]);
  });
});

describe("several candidates", () => {
  it("judges each named candidate on its own", async () => {
    const { scientist, publisher } = setUp();
    await scientist.science<number>("many", (e) => {
      e.use(() => 10);
      e.try("same", () => 10);
      e.try("off-by-one", () => 11);
      e.try("broken", () => {
        throw new Error("no");
      });
    });
    const result = publisher.results[0]!;
    expect(result.candidates.map((c) => c.name)).toEqual(["same", "off-by-one", "broken"]);
    expect(result.matched).toEqual(["same"]);
    expect(result.mismatched).toEqual(["off-by-one", "broken"]);
  });

  it("refuses two unnamed candidates, duplicate names and a missing control", () => {
    const { scientist } = setUp();
    const twoUnnamed = () =>
      scientist.scienceSync("x", (e) => {
        e.use(() => 1);
        e.try(() => 1);
        e.try(() => 2);
      });
    const noControl = () => scientist.scienceSync("x", (e) => e.try(() => 1));
    const duplicate = () =>
      scientist.scienceSync("x", (e) => {
        e.use(() => 1);
        e.try("a", () => 1);
        e.try("a", () => 2);
      });
    expect(twoUnnamed).toThrow(/name them/);
    expect(noControl).toThrow(ScienceUsageError);
    expect(duplicate).toThrow(/unique/);
  });

  it("runs the control alone and publishes nothing when there is no candidate", async () => {
    const { scientist, publisher } = setUp();
    expect(await scientist.science("alone", (e) => e.use(() => "only"))).toBe("only");
    expect(publisher.results).toHaveLength(0);
  });
});
