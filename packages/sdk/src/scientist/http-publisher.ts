import { randomUUID } from "node:crypto";
import { ScienceUsageError } from "./errors.ts";
import type { ExperimentResult, Publisher, RaisedHook } from "./types.ts";
import { toWireResult } from "./wire-result.ts";

export interface HttpPublisherOptions {
  /** The Gantry server, e.g. `https://gantry.internal:7070`. */
  baseUrl: string;
  /** An API token allowed to write experiment results. Sent as a bearer token, never logged. */
  token: string;
  /** Results per request. Default 100. */
  batchSize?: number;
  /** How often a partial batch is sent. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Results held while the server is slow or away; past it new results are dropped and counted. Default 10 000. */
  maxQueue?: number;
  /** Time allowed for one request. Default 5000 ms. */
  requestTimeoutMs?: number;
  /** Longest wait between attempts while the server is away. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Told once when the server becomes unreachable, and about every rejected batch. */
  raised?: RaisedHook;
}

export interface HttpPublisherStats {
  /** Results waiting to be sent. */
  queued: number;
  /** Results the server accepted. */
  sent: number;
  /** Results dropped because the queue was full (the server was away or slow). */
  dropped: number;
  /** Results the server refused (4xx other than 408/429); not retried. */
  rejected: number;
  /** Results that could not be turned into JSON. */
  unserializable: number;
  /** Requests that failed and were retried later. */
  failedRequests: number;
}

/**
 * Sends results to Gantry in batches. `publish` only appends to a bounded queue: no I/O,
 * no clock, nothing that can block or throw on the caller's path. Sending happens on
 * later turns of the event loop; while the server is away, batches are kept and retried
 * with exponential backoff until the queue is full, then new results are dropped and
 * counted, so an outage costs results, never memory or latency.
 */
export class HttpPublisher implements Publisher {
  private readonly url: string;
  private readonly authorization: string;
  private readonly options: Tuning;
  private readonly raised: RaisedHook;
  private readonly queue: ExperimentResult[] = [];
  private readonly ids = new WeakMap<ExperimentResult, string>();
  private readonly counts = { sent: 0, dropped: 0, rejected: 0, unserializable: 0, failedRequests: 0 };
  private readonly timer: NodeJS.Timeout;
  private sending: Promise<void> | undefined;
  private scheduled = false;
  private failures = 0;
  private retryAt = 0;

  constructor(options: HttpPublisherOptions) {
    this.options = tuning(options);
    this.authorization = `Bearer ${options.token}`;
    this.url = `${options.baseUrl.replace(/\/+$/, "")}/api/v1/experiments/results`;
    this.raised = options.raised ?? (() => {});
    this.timer = setInterval(() => this.sendWhenDue(true), this.options.flushIntervalMs);
    // Publishing must never be what keeps an application's process alive.
    this.timer.unref();
  }

  publish(result: ExperimentResult): void {
    if (this.queue.length >= this.options.maxQueue) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(result);
    if (this.queue.length >= this.options.batchSize && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.sendWhenDue(false);
      });
    }
  }

  stats(): HttpPublisherStats {
    return { queued: this.queue.length, ...this.counts };
  }

  /** Sends everything queued now, once, ignoring backoff; for shutdown and tests. */
  async flush(): Promise<void> {
    if (this.sending) await this.sending;
    this.retryAt = 0;
    this.sendWhenDue(true);
    if (this.sending) await this.sending;
  }

  /** Stops the timer and makes a last attempt to send what is queued. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private sendWhenDue(partialBatches: boolean): void {
    if (this.sending || this.queue.length === 0 || Date.now() < this.retryAt) return;
    this.sending = this.sendBatches(partialBatches).finally(() => {
      this.sending = undefined;
    });
  }

  private async sendBatches(partialBatches: boolean): Promise<void> {
    const { batchSize } = this.options;
    while (this.queue.length >= (partialBatches ? 1 : batchSize)) {
      const { body, kept } = this.serialize(this.queue.splice(0, batchSize));
      if (kept.length === 0) continue;
      if (!(await this.post(body, kept.length))) {
        this.putBack(kept);
        return;
      }
    }
  }

  /** True when the batch is done with (accepted or refused for good); false to retry it. */
  private async post(body: string, count: number): Promise<boolean> {
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { authorization: this.authorization, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return this.succeeded(count);
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        return this.failed(new Error(`${this.url} answered ${response.status}`));
      }
      this.counts.rejected += count;
      this.report(new Error(`${this.url} refused ${count} result(s) with ${response.status}`));
      return true;
    } catch (error) {
      return this.failed(error);
    }
  }

  /** Each result on its own, so one that cannot be JSON (a BigInt, a cycle) costs only itself. */
  private serialize(batch: ExperimentResult[]): { body: string; kept: ExperimentResult[] } {
    const parts: string[] = [];
    const kept: ExperimentResult[] = [];
    for (const result of batch) {
      try {
        const onCleanError = (error: unknown) => this.report(error, result.name, "clean");
        parts.push(JSON.stringify(toWireResult(result, onCleanError, this.idOf(result))));
        kept.push(result);
      } catch (error) {
        this.counts.unserializable++;
        this.report(error, result.name, "serialize");
      }
    }
    return { body: `{"results":[${parts.join(",")}]}`, kept };
  }

  /** A result keeps its id across retries; ids are made here, off the caller's path. */
  private idOf(result: ExperimentResult): string {
    let id = this.ids.get(result);
    if (id === undefined) {
      id = randomUUID();
      this.ids.set(result, id);
    }
    return id;
  }

  private succeeded(count: number): boolean {
    this.counts.sent += count;
    this.failures = 0;
    this.retryAt = 0;
    return true;
  }

  private failed(error: unknown): boolean {
    this.counts.failedRequests++;
    // Once per outage: an unreachable server would otherwise be reported every second.
    if (this.failures === 0) this.report(error);
    this.failures++;
    const backoff = this.options.flushIntervalMs * 2 ** Math.min(this.failures - 1, 16);
    this.retryAt = Date.now() + Math.min(backoff, this.options.maxBackoffMs) * (0.5 + Math.random() / 2);
    return false;
  }

  /** Returns a failed batch to the front of the queue; what no longer fits is dropped. */
  private putBack(batch: ExperimentResult[]): void {
    const room = Math.max(0, this.options.maxQueue - this.queue.length);
    if (room < batch.length) this.counts.dropped += batch.length - room;
    this.queue.unshift(...batch.slice(0, room));
  }

  private report(error: unknown, experiment = "*", operation = "publish"): void {
    try {
      this.raised(error, { experiment, operation });
    } catch {
      // Nowhere left to send it.
    }
  }
}

type Tuning = Required<Omit<HttpPublisherOptions, "baseUrl" | "token" | "raised">>;

const DEFAULT_TUNING: Tuning = {
  batchSize: 100,
  flushIntervalMs: 1000,
  maxQueue: 10_000,
  requestTimeoutMs: 5000,
  maxBackoffMs: 30_000,
};

/** Defaults for what is left out; a number that is not positive is refused by name. */
function tuning(options: HttpPublisherOptions): Tuning {
  if (!/^https?:\/\//.test(options.baseUrl)) {
    throw new ScienceUsageError(`baseUrl: "${options.baseUrl}" must start with http:// or https://`);
  }
  const chosen = { ...DEFAULT_TUNING };
  for (const key of Object.keys(DEFAULT_TUNING) as (keyof Tuning)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new ScienceUsageError(`${key}: ${value} must be a positive number`);
    }
    chosen[key] = value;
  }
  return chosen;
}
