import type { ExperimentResult, Publisher } from "./types.ts";

/** Keeps results in memory: for tests, and for looking at experiments in a REPL. */
export class RecordingPublisher implements Publisher {
  readonly results: ExperimentResult[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  publish(result: ExperimentResult): void {
    this.results.push(result);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.results.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves once `count` results have been published in all (background runs finish late). */
  waitFor(count: number): Promise<void> {
    if (this.results.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}
