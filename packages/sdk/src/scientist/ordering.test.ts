import { describe, expect, it } from "vitest";
import { MismatchError } from "./errors.ts";
import { RecordingPublisher } from "./recording-publisher.ts";
import { Scientist } from "./scientist.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setUp(defaults = {}) {
  const publisher = new RecordingPublisher();
  const raised: { error: unknown; operation: string }[] = [];
  const scientist = new Scientist({
    publisher,
    defaults,
    raised: (error, { operation }) => raised.push({ error, operation }),
  });
  return { scientist, publisher, raised };
}

describe("sequential order (the default)", () => {
  it("runs behaviours one at a time, control first in some runs and candidate first in others", async () => {
    const { scientist } = setUp();
    const firsts = new Set<string>();
    let running = 0;
    let overlapped = false;
    const behaviour = (name: string, log: string[]) => async () => {
      log.push(name);
      running++;
      if (running > 1) overlapped = true;
      await sleep(1);
      running--;
      return 1;
    };
    for (let i = 0; i < 40; i++) {
      const log: string[] = [];
      await scientist.science("seq", (e) => {
        e.use(behaviour("control", log));
        e.try(behaviour("candidate", log));
      });
      firsts.add(log[0]!);
    }
    expect(overlapped).toBe(false);
    expect(firsts).toEqual(new Set(["control", "candidate"]));
  });

  it("shuffles scienceSync behaviours too", () => {
    const { scientist } = setUp();
    const firsts = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const log: string[] = [];
      scientist.scienceSync("seq-sync", (e) => {
        e.use(() => log.push("control"));
        e.try("a", () => log.push("a"));
        e.try("b", () => log.push("b"));
      });
      firsts.add(log[0]!);
    }
    expect(firsts).toEqual(new Set(["control", "a", "b"]));
  });
});

describe("parallel order", () => {
  it("starts every behaviour before any finishes, and the caller waits for all of them", async () => {
    const { scientist, publisher } = setUp({ order: "parallel" });
    // Each side waits until the other has started: run one after the other, this would never finish.
    let controlStarted: () => void = () => {};
    let candidateStarted: () => void = () => {};
    const both = Promise.all([
      new Promise<void>((resolve) => {
        controlStarted = resolve;
      }),
      new Promise<void>((resolve) => {
        candidateStarted = resolve;
      }),
    ]);
    const bothOrFail = Promise.race([
      both,
      sleep(5000).then(() => Promise.reject(new Error("ran one by one"))),
    ]);
    let candidateDone = false;
    const value = await scientist.science<string>("par", (e) => {
      e.use(async () => {
        controlStarted();
        await bothOrFail;
        return "c";
      });
      e.try(async () => {
        candidateStarted();
        await bothOrFail;
        await sleep(20);
        candidateDone = true;
        return "c";
      });
    });
    expect(value).toBe("c");
    expect(candidateDone).toBe(true);
    expect(publisher.results[0]!.matched).toEqual(["candidate"]);
  });
});

describe("background order", () => {
  it("answers before the candidate starts, then publishes when the candidate is done", async () => {
    const { scientist, publisher } = setUp();
    const events: string[] = [];
    const value = await scientist.science<number>("bg", (e) => {
      e.order("background");
      e.use(() => {
        events.push("control");
        return 1;
      });
      e.try(async () => {
        events.push("candidate started");
        await sleep(20);
        return 2;
      });
    });
    events.push("caller has its answer");
    expect(value).toBe(1);
    expect(publisher.results).toHaveLength(0);
    await publisher.waitFor(1);
    expect(events).toEqual(["control", "caller has its answer", "candidate started"]);
    expect(publisher.results[0]!.mismatched).toEqual(["candidate"]);
  });

  it("runs scienceSync candidates on a later turn of the event loop", async () => {
    const { scientist, publisher } = setUp({ order: "background" });
    const events: string[] = [];
    scientist.scienceSync("bg-sync", (e) => {
      e.use(() => events.push("control"));
      e.try(() => events.push("candidate"));
    });
    events.push("returned");
    await publisher.waitFor(1);
    expect(events).toEqual(["control", "returned", "candidate"]);
  });

  it("still runs and publishes the candidate when the control threw", async () => {
    const { scientist, publisher } = setUp({ order: "background" });
    const failure = new Error("control failed");
    for (let i = 0; i < 2; i++) {
      expect(() =>
        scientist.scienceSync("bg-throws", (e) => {
          e.use(() => {
            throw failure;
          });
          e.try(() => "candidate answer");
        }),
      ).toThrow(failure);
    }
    await publisher.waitFor(2);
    expect(publisher.results.map((r) => r.candidates[0]!.value)).toEqual([
      "candidate answer",
      "candidate answer",
    ]);
  });

  it("reports a mismatch to raised when the caller already has its answer", async () => {
    const { scientist, publisher, raised } = setUp({ order: "background" });
    const value = await scientist.science("bg-raise", (e) => {
      e.use(() => 1);
      e.try(() => 2);
      e.raiseOnMismatches();
    });
    await publisher.waitFor(1);
    expect(value).toBe(1);
    expect(raised[0]).toMatchObject({ operation: "raiseOnMismatches" });
    expect(raised[0]!.error).toBeInstanceOf(MismatchError);
  });

  it("skips candidates rather than piling up past maxBackground, and counts them", async () => {
    const { scientist, publisher } = setUp({ order: "background", maxBackground: 2 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (let i = 0; i < 5; i++) {
      await scientist.science("bg-limit", (e) => {
        e.use(() => i);
        e.try(() => gate.then(() => i));
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(scientist.stats()).toEqual({ backgroundInFlight: 2, backgroundSkipped: 3 });
    release();
    await publisher.waitFor(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(scientist.stats().backgroundInFlight).toBe(0);
  });
});
