import type { Logger } from "pino";
import { routerSamplesByService, sampleDelta, type VersionSample } from "../analysis/index.ts";
import type { SliSample, SliStore } from "./sli-store.ts";

/** CPU and memory of one running instance, as the runtime reports it. */
export interface InstanceUsage {
  id: string;
  service: string;
  version: string;
  /** CPU seconds used since it started. */
  cpuSeconds: number;
  rssBytes: number;
}

export interface SliRecorderDeps {
  store: SliStore;
  /** The router's Prometheus exposition. */
  routerMetrics: () => Promise<string>;
  /** CPU and memory of the running instances; an empty list when the runtime cannot say. */
  instanceUsage: () => Promise<InstanceUsage[]>;
  now: () => Date;
  log?: Logger;
}

/**
 * Samples the router's per-version counters (and the instances' CPU and memory) every
 * interval, stores what each version served since the previous sample, and hands the
 * samples to listeners (the SLO engine). The first sample after a start is the baseline.
 */
export class SliRecorder {
  readonly #deps: SliRecorderDeps;
  readonly #listeners: ((samples: SliSample[]) => void)[] = [];
  #previous: Map<string, Map<string, VersionSample>> | undefined;
  #previousCpu = new Map<string, number>();
  #previousAt: number | undefined;
  #lastMaintenance = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: SliRecorderDeps) {
    this.#deps = deps;
  }

  onSamples(listener: (samples: SliSample[]) => void): void {
    this.#listeners.push(listener);
  }

  start(): void {
    const interval = this.#deps.store.settings.interval;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.tick()
        .then(() => undefined)
        .catch((err) => this.#deps.log?.warn({ err }, "SLI sample failed"))
        .finally(() => {
          this.#running = undefined;
        });
    }, interval);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Takes one sample now; returns what was stored. */
  async tick(): Promise<SliSample[]> {
    const text = await this.#deps.routerMetrics();
    const usage = await this.#deps.instanceUsage().catch(() => []);
    const at = this.#deps.now().getTime();
    const current = routerSamplesByService(text);
    const samples: SliSample[] = [];
    const previous = this.#previous;
    const previousAt = this.#previousAt;
    const cpu = this.#cpuDeltas(usage);
    this.#previous = current;
    this.#previousAt = at;
    if (!previous || previousAt === undefined || at <= previousAt) return samples;
    const span = at - previousAt;
    const keys = new Set<string>();
    for (const [service, versions] of current)
      for (const version of versions.keys()) keys.add(`${service}\0${version}`);
    for (const key of cpu.keys()) keys.add(key);
    for (const key of keys) {
      const [service, version] = key.split("\0") as [string, string];
      const now = current.get(service)?.get(version);
      const delta = now ? sampleDelta(now, previous.get(service)?.get(version)) : undefined;
      const use = cpu.get(key);
      if ((!delta || delta.requests === 0) && !use) continue;
      const latency = new Map<number, number>();
      if (delta) {
        const { bounds, counts } = delta.latency;
        counts.forEach((n, i) => {
          if (n > 0) latency.set(i < bounds.length ? bounds[i]! : Number.POSITIVE_INFINITY, n);
        });
      }
      samples.push({
        service,
        version,
        at,
        span,
        requests: delta?.requests ?? 0,
        errors: delta?.errors ?? 0,
        latency,
        cpuSeconds: use?.cpuSeconds ?? null,
        rssBytes: use?.rssBytes ?? null,
      });
    }
    await this.#deps.store.write(samples);
    for (const listener of this.#listeners) listener(samples);
    const { coarse } = this.#deps.store.settings;
    if (Math.floor(at / coarse) !== Math.floor(this.#lastMaintenance / coarse)) {
      this.#lastMaintenance = at;
      const report = await this.#deps.store.maintain(at);
      if (report.deleted > 0 || report.rolled > 0)
        this.#deps.log?.debug(report, "SLI points rolled up and pruned");
    }
    return samples;
  }

  /** CPU used since the previous sample by instances seen both times, and memory now, per version. */
  #cpuDeltas(usage: InstanceUsage[]): Map<string, { cpuSeconds: number; rssBytes: number }> {
    const out = new Map<string, { cpuSeconds: number; rssBytes: number }>();
    const seen = new Map<string, number>();
    for (const u of usage) {
      seen.set(u.id, u.cpuSeconds);
      const key = `${u.service}\0${u.version}`;
      const entry = out.get(key) ?? { cpuSeconds: 0, rssBytes: 0 };
      const before = this.#previousCpu.get(u.id);
      if (before !== undefined && u.cpuSeconds >= before) entry.cpuSeconds += u.cpuSeconds - before;
      entry.rssBytes += u.rssBytes;
      out.set(key, entry);
    }
    this.#previousCpu = seen;
    return out;
  }
}
