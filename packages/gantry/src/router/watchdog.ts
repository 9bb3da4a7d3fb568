/**
 * Runs `check` every `everyMs` and `restart` when it fails, one restart at a time. `stop`
 * ends it for good: a check still under way when it is called starts nothing afterwards (a
 * router stopped on purpose stops answering, and must not be started again behind the back
 * of the shutdown), and `stop` waits for a restart already under way, so the caller then
 * stops what that restart started.
 */
export class Watchdog {
  readonly #check: () => Promise<boolean>;
  readonly #restart: () => Promise<void>;
  readonly #timer: NodeJS.Timeout;
  #stopped = false;
  #restarting: Promise<void> | undefined;

  constructor(o: { everyMs: number; check: () => Promise<boolean>; restart: () => Promise<void> }) {
    this.#check = o.check;
    this.#restart = o.restart;
    this.#timer = setInterval(() => void this.#tick(), o.everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#restarting;
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#restarting) return;
    const healthy = await this.#check().catch(() => false);
    if (healthy || this.#stopped || this.#restarting) return;
    this.#restarting = this.#restart().finally(() => {
      this.#restarting = undefined;
    });
    await this.#restarting;
  }
}
