import { describe, expect, it } from "vitest";
import { CircuitBreaker, defaultBreaker } from "./circuit-breaker.ts";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("circuit breaker", () => {
  it("opens on an error rate over the window once it has enough requests", () => {
    const c = clock();
    const breaker = new CircuitBreaker({ ...defaultBreaker, errorRate: 0.5, minRequests: 10 }, c.now);
    for (let i = 0; i < 9; i++) breaker.record(false);
    expect(breaker.state).toBe("closed");
    breaker.record(false);
    expect(breaker.state).toBe("open");
    expect(breaker.allow()).toBe(false);
  });

  it("forgets failures older than the window", () => {
    const c = clock();
    const breaker = new CircuitBreaker(
      { ...defaultBreaker, errorRate: 0.5, minRequests: 10, windowSeconds: 10 },
      c.now,
    );
    for (let i = 0; i < 9; i++) breaker.record(false);
    c.advance(11_000);
    for (let i = 0; i < 9; i++) breaker.record(true);
    breaker.record(false);
    expect(breaker.state).toBe("closed");
  });

  it("opens on consecutive failures, half-opens after the cool-down, and closes when trials succeed", () => {
    const c = clock();
    const breaker = new CircuitBreaker(
      { ...defaultBreaker, consecutiveFailures: 3, cooldownSeconds: 5, halfOpenRequests: 2 },
      c.now,
    );
    breaker.record(false);
    breaker.record(true);
    breaker.record(false);
    breaker.record(false);
    expect(breaker.state).toBe("closed");
    breaker.record(false);
    expect(breaker.state).toBe("open");
    c.advance(5000);
    expect(breaker.state).toBe("half-open");
    expect([breaker.allow(), breaker.allow(), breaker.allow()]).toEqual([true, true, false]);
    breaker.record(true);
    breaker.record(true);
    expect(breaker.state).toBe("closed");
  });

  it("goes back to open when a trial request fails", () => {
    const c = clock();
    const breaker = new CircuitBreaker(
      { ...defaultBreaker, consecutiveFailures: 1, cooldownSeconds: 1 },
      c.now,
    );
    breaker.record(false);
    c.advance(1000);
    expect(breaker.allow()).toBe(true);
    breaker.record(false);
    expect(breaker.state).toBe("open");
  });

  it("starts new trials when half-open trials never report back", () => {
    const c = clock();
    const breaker = new CircuitBreaker(
      { ...defaultBreaker, consecutiveFailures: 1, cooldownSeconds: 1, halfOpenRequests: 1 },
      c.now,
    );
    breaker.record(false);
    c.advance(1000);
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(false);
    c.advance(1000);
    expect(breaker.allow()).toBe(true);
  });

  it("stays where an operator holds it", () => {
    const breaker = new CircuitBreaker({ ...defaultBreaker, consecutiveFailures: 1, forced: "open" });
    expect(breaker.allow()).toBe(false);
    breaker.settings = { ...breaker.settings, forced: "closed" };
    breaker.record(false);
    expect(breaker.allow()).toBe(true);
  });
});
