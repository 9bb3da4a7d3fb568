import { Pool } from "undici";
import type { Upstream } from "./policy.ts";

const ejectBaseMs = 1000;
const ejectMaxMs = 30_000;

interface Entry {
  upstream: Upstream;
  pool: Pool;
  inflight: number;
  /** Still named by the current policy; a retired entry closes when its last request ends. */
  active: boolean;
  ejectedUntil: number;
  failures: number;
}

/**
 * Keep-alive connection pools per instance, with the in-flight count, passive ejection of
 * instances that refuse connections, and draining: an instance that leaves the policy gets
 * no new request, and its pool closes (no idle socket left) once its last request ends.
 */
export class UpstreamPools {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Makes the set of active instances exactly `upstreams`; others start draining. */
  sync(upstreams: Upstream[]): void {
    const wanted = new Map(upstreams.map((u) => [u.id, u]));
    for (const [id, entry] of this.#entries) {
      const next = wanted.get(id);
      if (next && next.host === entry.upstream.host && next.port === entry.upstream.port) {
        entry.active = true;
        wanted.delete(id);
      } else {
        entry.active = false;
        this.#closeIfIdle(id, entry);
      }
    }
    for (const [id, upstream] of wanted) {
      // A retired entry with the same id but another address is replaced once drained.
      if (this.#entries.has(id)) continue;
      this.#entries.set(id, {
        upstream,
        pool: newPool(upstream),
        inflight: 0,
        active: true,
        ejectedUntil: 0,
        failures: 0,
      });
    }
  }

  usable = (upstream: Upstream): boolean => {
    const entry = this.#entries.get(upstream.id);
    return entry?.active === true && entry.ejectedUntil <= this.#now();
  };

  /** Starts a request to an instance; call the returned function exactly once when it ends. */
  acquire(id: string): { pool: Pool; release: () => void } | undefined {
    const entry = this.#entries.get(id);
    if (!entry?.active) return undefined;
    entry.inflight += 1;
    let released = false;
    return {
      pool: entry.pool,
      release: () => {
        if (released) return;
        released = true;
        entry.inflight -= 1;
        if (!entry.active) this.#closeIfIdle(id, entry);
      },
    };
  }

  /** The instance refused a connection: no request for a while, longer each time. */
  eject(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    entry.failures += 1;
    entry.ejectedUntil = this.#now() + Math.min(ejectMaxMs, ejectBaseMs * 2 ** (entry.failures - 1));
  }

  succeeded(id: string): void {
    const entry = this.#entries.get(id);
    if (entry && entry.failures > 0) {
      entry.failures = 0;
      entry.ejectedUntil = 0;
    }
  }

  inflight(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, entry] of this.#entries) if (entry.inflight > 0) out[id] = entry.inflight;
    return out;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#entries.values()].map((e) => e.pool.close()));
    this.#entries.clear();
  }

  #closeIfIdle(id: string, entry: Entry): void {
    if (entry.inflight > 0 || this.#entries.get(id) !== entry) return;
    this.#entries.delete(id);
    void entry.pool.close().catch(() => undefined);
  }
}

function newPool(upstream: Upstream): Pool {
  return new Pool(`http://${upstream.host}:${upstream.port}`, {
    connections: 256,
    pipelining: 1,
    keepAliveTimeout: 4000,
    keepAliveMaxTimeout: 30_000,
    headersTimeout: 60_000,
    bodyTimeout: 120_000,
    connect: { timeout: 3000 },
  });
}
