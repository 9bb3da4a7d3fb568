import { backoffDelay } from "./backoff.ts";
import type { EvaluationCount, EvaluationCounts } from "./evaluation-counts.ts";
import type { HttpChannel } from "./http-channel.ts";

const PATH = "api/v1/sdk/flags/evaluations";
/** The server takes at most this many entries a request. */
const BATCH = 1000;

export interface EvaluationReporterOptions {
  channel: HttpChannel;
  counts: EvaluationCounts;
  intervalMs: number;
  requestTimeoutMs: number;
  maxBackoffMs: number;
  /** Told once when reporting starts failing, and about every refused batch. */
  onError: (message: string) => void;
}

/**
 * Sends the evaluation counts to Gantry every interval, off the evaluation path. A batch
 * the server cannot take now (down, 5xx, 408, 429) goes back into the counts and is retried
 * with backoff; one it refuses (another 4xx) is dropped and counted. `close` makes a last
 * attempt, so counts reach the server when the application shuts down cleanly.
 */
export class EvaluationReporter {
  readonly #o: EvaluationReporterOptions;
  readonly #timer: NodeJS.Timeout;
  #sending: Promise<void> | undefined;
  #failures = 0;
  #retryAt = 0;
  #reported = 0;
  #failedRequests = 0;

  constructor(options: EvaluationReporterOptions) {
    this.#o = options;
    this.#timer = setInterval(() => this.#sendWhenDue(), options.intervalMs);
    this.#timer.unref();
  }

  get reported(): number {
    return this.#reported;
  }

  get failedRequests(): number {
    return this.#failedRequests;
  }

  /** Sends what is counted now, ignoring backoff. */
  async flush(): Promise<void> {
    if (this.#sending) await this.#sending;
    this.#retryAt = 0;
    this.#sendWhenDue();
    if (this.#sending) await this.#sending;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  #sendWhenDue(): void {
    if (this.#sending || Date.now() < this.#retryAt) return;
    this.#sending = this.#send().finally(() => {
      this.#sending = undefined;
    });
  }

  async #send(): Promise<void> {
    const entries = this.#o.counts.take(Date.now());
    for (let start = 0; start < entries.length; start += BATCH) {
      const batch = entries.slice(start, start + BATCH);
      if (!(await this.#post(batch))) {
        this.#o.counts.putBack(entries.slice(start));
        return;
      }
    }
  }

  /** True when the batch is done with (taken or refused for good); false to retry it. */
  async #post(batch: EvaluationCount[]): Promise<boolean> {
    try {
      const result = await this.#o.channel.request(PATH, {
        method: "POST",
        body: JSON.stringify({ evaluations: batch }),
        timeoutMs: this.#o.requestTimeoutMs,
        // A report in flight when the application ends is worth finishing.
        keepProcessAlive: true,
      });
      if (result.status >= 200 && result.status < 300) {
        for (const entry of batch) this.#reported += entry.count;
        this.#failures = 0;
        this.#retryAt = 0;
        return true;
      }
      if (result.status >= 500 || result.status === 408 || result.status === 429) {
        return this.#failed(`Gantry answered ${result.status} to an evaluation report`);
      }
      this.#o.counts.drop(batch);
      this.#o.onError(
        `Gantry refused an evaluation report (${result.status}): ${result.body.slice(0, 300)}; ${batch.length} counts dropped`,
      );
      return true;
    } catch (error) {
      return this.#failed(`could not report evaluations: ${(error as Error).message}`);
    }
  }

  #failed(message: string): boolean {
    this.#failedRequests++;
    // Once per outage: the connection's own events already say the server is away.
    if (this.#failures === 0) this.#o.onError(message);
    this.#failures++;
    this.#retryAt = Date.now() + backoffDelay(this.#failures, this.#o.intervalMs, this.#o.maxBackoffMs);
    return false;
  }
}
