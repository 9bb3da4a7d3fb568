/** When the breaker trips, how it recovers, and whether an operator holds it. */
export interface BreakerSettings {
  /** "open" or "closed" holds the breaker there (gantry breaker SERVICE open|close); null lets it work. */
  forced: "open" | "closed" | null;
  /** Share of failed requests (5xx or no answer) over the window that opens it; 0 disables. */
  errorRate: number;
  /** Requests the window needs before the error rate counts. */
  minRequests: number;
  windowSeconds: number;
  /** Failures in a row that open it; 0 disables. */
  consecutiveFailures: number;
  /** How long it stays open before letting trial requests through. */
  cooldownSeconds: number;
  /** Trial requests in half-open; all must succeed to close it. */
  halfOpenRequests: number;
}

export type BreakerState = "closed" | "open" | "half-open";

export const defaultBreaker: BreakerSettings = {
  forced: null,
  errorRate: 0,
  minRequests: 20,
  windowSeconds: 10,
  consecutiveFailures: 0,
  cooldownSeconds: 10,
  halfOpenRequests: 3,
};

const buckets = 10;

/**
 * A circuit breaker per service, as in Hystrix/Envoy: it opens on an error rate over a
 * sliding window or on consecutive failures, lets a few trial requests through after a
 * cool-down (half-open), and closes when they succeed. The clock is injected.
 */
export class CircuitBreaker {
  settings: BreakerSettings;
  #state: BreakerState = "closed";
  #openedAt = 0;
  #consecutive = 0;
  #trialsStarted = 0;
  #trialsSucceeded = 0;
  #halfOpenSince = 0;
  readonly #counts: { at: number; total: number; failed: number }[] = [];
  readonly #now: () => number;

  constructor(settings: BreakerSettings, now: () => number = Date.now) {
    this.settings = settings;
    this.#now = now;
  }

  get state(): BreakerState {
    if (this.settings.forced === "open") return "open";
    if (this.settings.forced === "closed") return "closed";
    const cooldown = this.settings.cooldownSeconds * 1000;
    if (this.#state === "open" && this.#now() - this.#openedAt >= cooldown) this.#halfOpen();
    // A trial whose answer never came (the client left) must not hold the breaker half-open forever.
    if (this.#state === "half-open" && this.#now() - this.#halfOpenSince >= cooldown) this.#halfOpen();
    return this.#state;
  }

  /** Whether a request may go to the service's instances now. */
  allow(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open") return false;
    if (this.#trialsStarted >= this.settings.halfOpenRequests) return false;
    this.#trialsStarted += 1;
    return true;
  }

  record(success: boolean): void {
    if (this.settings.forced !== null) return;
    const state = this.state;
    if (state === "half-open") {
      if (!success) {
        this.#open();
        return;
      }
      this.#trialsSucceeded += 1;
      if (this.#trialsSucceeded >= this.settings.halfOpenRequests) this.#close();
      return;
    }
    if (state === "open") return;
    this.#consecutive = success ? 0 : this.#consecutive + 1;
    const bucket = this.#bucket();
    bucket.total += 1;
    if (!success) bucket.failed += 1;
    if (this.#shouldOpen()) this.#open();
  }

  #shouldOpen(): boolean {
    const { consecutiveFailures, errorRate, minRequests } = this.settings;
    if (consecutiveFailures > 0 && this.#consecutive >= consecutiveFailures) return true;
    if (errorRate <= 0) return false;
    let total = 0;
    let failed = 0;
    const since = this.#now() - this.settings.windowSeconds * 1000;
    for (const b of this.#counts) {
      if (b.at < since) continue;
      total += b.total;
      failed += b.failed;
    }
    return total >= minRequests && failed / total >= errorRate;
  }

  #bucket(): { at: number; total: number; failed: number } {
    const width = (this.settings.windowSeconds * 1000) / buckets;
    const at = Math.floor(this.#now() / width) * width;
    const last = this.#counts.at(-1);
    if (last && last.at === at) return last;
    const fresh = { at, total: 0, failed: 0 };
    this.#counts.push(fresh);
    while (this.#counts.length > buckets + 1) this.#counts.shift();
    return fresh;
  }

  #halfOpen(): void {
    this.#state = "half-open";
    this.#halfOpenSince = this.#now();
    this.#trialsStarted = 0;
    this.#trialsSucceeded = 0;
  }

  #open(): void {
    this.#state = "open";
    this.#openedAt = this.#now();
  }

  #close(): void {
    this.#state = "closed";
    this.#consecutive = 0;
    this.#counts.length = 0;
  }
}
