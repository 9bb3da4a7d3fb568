import type { Upstream } from "../policy.ts";
import { UpstreamConnection, type UpstreamTimeouts } from "./upstream-connection.ts";

export interface PoolSettings extends UpstreamTimeouts {
  /** Idle keep-alive connections kept per instance; more are closed when they go idle. */
  maxIdle: number;
  /** An idle connection is closed after this long, before the instance closes it (Node: 5 s). */
  idleMs: number;
  maxHeaderSize: number;
  /** First ejection of an instance that refuses connections; doubles each time, up to ejectMaxMs. */
  ejectBaseMs: number;
  ejectMaxMs: number;
}

export const defaultPoolSettings: PoolSettings = {
  connectMs: 3000,
  responseMs: 60_000,
  maxIdle: 128,
  idleMs: 4000,
  maxHeaderSize: 16 * 1024,
  ejectBaseMs: 2000,
  ejectMaxMs: 30_000,
};

/**
 * The connections to one instance: idle ones reused newest first (so the rest age out), its
 * in-flight count, its ejection, and whether the policy still names it. A retired instance
 * takes no new request and closes every connection once its last request ends, so the
 * control plane can stop it as soon as /inflight no longer lists it.
 */
export class InstancePool {
  readonly upstream: Upstream;
  readonly #settings: PoolSettings;
  readonly #idle: UpstreamConnection[] = [];
  readonly #all = new Set<UpstreamConnection>();
  inflight = 0;
  active = true;
  ejectedUntil = 0;
  #failures = 0;
  onDrained: (() => void) | undefined;

  constructor(upstream: Upstream, settings: PoolSettings) {
    this.upstream = upstream;
    this.#settings = settings;
  }

  usable(now: number): boolean {
    return this.active && this.ejectedUntil <= now;
  }

  /** A connection for one request: the newest idle one, or a new one. */
  take(): UpstreamConnection {
    this.inflight += 1;
    const idle = this.#idle.pop();
    if (idle) return idle;
    const conn = new UpstreamConnection(
      this.upstream.host,
      this.upstream.port,
      this.#settings,
      this.#settings.maxHeaderSize,
    );
    this.#all.add(conn);
    conn.onClose = () => {
      this.#all.delete(conn);
      const at = this.#idle.indexOf(conn);
      if (at !== -1) this.#idle.splice(at, 1);
    };
    return conn;
  }

  /** The request is over; the connection is kept if it can carry another one. */
  give(conn: UpstreamConnection): void {
    this.inflight -= 1;
    conn.detach();
    if (conn.done || !this.active || this.#idle.length >= this.#settings.maxIdle) conn.destroy();
    else this.#idle.push(conn);
    if (!this.active && this.inflight === 0) this.close();
  }

  /** The instance refused a connection: no request for a while, longer each time in a row. */
  eject(now: number): void {
    this.#failures += 1;
    const ms = Math.min(this.#settings.ejectMaxMs, this.#settings.ejectBaseMs * 2 ** (this.#failures - 1));
    this.ejectedUntil = now + ms;
  }

  succeeded(): void {
    if (this.#failures === 0) return;
    this.#failures = 0;
    this.ejectedUntil = 0;
  }

  /** Times out slow connects and responses, and closes connections idle for too long. */
  sweep(now: number): void {
    for (const conn of this.#all) conn.expire(now);
    const oldest = now - this.#settings.idleMs;
    while (this.#idle.length > 0 && this.#idle[0]!.idleSince < oldest) this.#idle.shift()!.destroy();
  }

  close(): void {
    for (const conn of this.#all) conn.destroy();
    this.#idle.length = 0;
    this.onDrained?.();
  }
}

/**
 * Pools by instance id, kept in step with the policy: new instances get a pool, removed
 * ones drain (see InstancePool), an instance whose address changed is replaced.
 */
export class InstancePools {
  readonly #pools = new Map<string, InstancePool>();
  readonly #draining = new Set<InstancePool>();
  readonly #settings: PoolSettings;

  constructor(settings: PoolSettings = defaultPoolSettings) {
    this.#settings = settings;
  }

  get(id: string): InstancePool | undefined {
    return this.#pools.get(id);
  }

  sync(upstreams: Upstream[]): void {
    const wanted = new Map(upstreams.map((u) => [u.id, u]));
    for (const [id, pool] of this.#pools) {
      const next = wanted.get(id);
      if (next && next.host === pool.upstream.host && next.port === pool.upstream.port) continue;
      this.#pools.delete(id);
      this.#retire(pool);
    }
    for (const [id, upstream] of wanted)
      if (!this.#pools.has(id)) this.#pools.set(id, new InstancePool(upstream, this.#settings));
  }

  /** In-flight requests by instance id, draining instances included; idle ones left out. */
  inflight(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const pool of [...this.#pools.values(), ...this.#draining])
      if (pool.inflight > 0) out[pool.upstream.id] = (out[pool.upstream.id] ?? 0) + pool.inflight;
    return out;
  }

  sweep(now: number): void {
    for (const pool of this.#pools.values()) pool.sweep(now);
    for (const pool of this.#draining) pool.sweep(now);
  }

  closeAll(): void {
    for (const pool of [...this.#pools.values(), ...this.#draining]) pool.close();
    this.#pools.clear();
    this.#draining.clear();
  }

  #retire(pool: InstancePool): void {
    pool.active = false;
    if (pool.inflight === 0) {
      pool.close();
      return;
    }
    this.#draining.add(pool);
    pool.onDrained = () => this.#draining.delete(pool);
  }
}
