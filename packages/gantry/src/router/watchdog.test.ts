import { describe, expect, it } from "vitest";
import { Watchdog } from "./watchdog.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the router's watchdog", () => {
  it("restarts what fails its check, one restart at a time", async () => {
    let restarts = 0;
    const dog = new Watchdog({
      everyMs: 10,
      check: async () => restarts >= 2,
      restart: async () => {
        await sleep(30);
        restarts += 1;
      },
    });
    await sleep(200);
    await dog.stop();
    expect(restarts).toBe(2);
  });

  it("starts nothing after stop, even when a check under way then fails", async () => {
    let answer: ((healthy: boolean) => void) | undefined;
    let restarts = 0;
    const dog = new Watchdog({
      everyMs: 10,
      check: () => new Promise<boolean>((resolve) => (answer = resolve)),
      restart: async () => {
        restarts += 1;
      },
    });
    while (!answer) await sleep(5);
    // The shutdown stops the router: the check under way now fails.
    await dog.stop();
    answer(false);
    await sleep(50);
    expect(restarts).toBe(0);
  });

  it("waits, on stop, for a restart under way, so the caller stops what it started", async () => {
    let started = false;
    let finished = false;
    const dog = new Watchdog({
      everyMs: 10,
      check: async () => started,
      restart: async () => {
        started = true;
        await sleep(100);
        finished = true;
      },
    });
    while (!started) await sleep(5);
    await dog.stop();
    expect(finished).toBe(true);
  });
});
