import { cohortVersion, type HeaderList, verifyPin } from "./cohorts.ts";
import type { Backend, RouterPolicy, ServiceRoute, Upstream } from "./policy.ts";

/**
 * The policy compiled for fast lookups: routes by exact host, then by longest path prefix.
 * Pure, apart from the round-robin counters it keeps per route.
 */
export class RouteTable {
  readonly #byHost = new Map<string, CompiledRoute[]>();
  readonly #anyHost: CompiledRoute[] = [];
  readonly #fallback: CompiledRoute | undefined;
  readonly revision: number;

  constructor(policy: RouterPolicy) {
    this.revision = policy.revision;
    const compiled = policy.services.map((s) => new CompiledRoute(s));
    for (const route of compiled) {
      if (route.spec.hosts.length === 0) this.#anyHost.push(route);
      for (const host of route.spec.hosts) {
        const list = this.#byHost.get(host.toLowerCase()) ?? [];
        list.push(route);
        this.#byHost.set(host.toLowerCase(), list);
      }
    }
    const byPrefix = (a: CompiledRoute, b: CompiledRoute) =>
      b.spec.pathPrefix.length - a.spec.pathPrefix.length;
    for (const list of this.#byHost.values()) list.sort(byPrefix);
    this.#anyHost.sort(byPrefix);
    this.#fallback = compiled.find((r) => r.spec.isDefault);
  }

  /** The route for a request, or undefined when nothing (not even a default route) answers it. */
  match(hostHeader: string | undefined, path: string): CompiledRoute | undefined {
    const host = normalizeHost(hostHeader);
    const candidates = this.#byHost.get(host);
    return (
      (candidates && longestPrefix(candidates, path)) ?? longestPrefix(this.#anyHost, path) ?? this.#fallback
    );
  }
}

function longestPrefix(routes: CompiledRoute[], path: string): CompiledRoute | undefined {
  return routes.find((r) => prefixMatches(r.spec.pathPrefix, path));
}

/** "/api" matches "/api", "/api/x" and "/api?q", not "/apix". */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === "/") return true;
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length || prefix.endsWith("/")) return true;
  const next = path[prefix.length];
  return next === "/" || next === "?";
}

/** Lower case, without port; IPv6 literals keep their brackets. */
export function normalizeHost(host: string | undefined): string {
  if (!host) return "";
  const lower = host.toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  const colon = lower.indexOf(":");
  return colon === -1 ? lower : lower.slice(0, colon);
}

export class CompiledRoute {
  readonly spec: ServiceRoute;
  /** Versions with instances, whatever their weight (a pinned request may go to any). */
  readonly #backends: Backend[];
  /** Of those, the ones that take a share of traffic. */
  readonly #weighted: Backend[];
  readonly #current: number[];
  readonly #next: number[];
  readonly #pinKey: Buffer | undefined;

  constructor(spec: ServiceRoute) {
    this.spec = spec;
    this.#backends = spec.backends.filter((b) => b.instances.length > 0);
    this.#weighted = this.#backends.filter((b) => b.weight > 0);
    this.#current = this.#weighted.map(() => 0);
    this.#next = this.#backends.map(() => 0);
    this.#pinKey = spec.pinKey ? Buffer.from(spec.pinKey, "base64") : undefined;
  }

  get hasBackends(): boolean {
    return this.#weighted.length > 0;
  }

  /**
   * The instance for a request: the version a valid pin ticket names, else the one its
   * cohort gets during a phased rollout, else by weight (see `pick`). A pinned or cohort
   * version without a usable instance falls back to the weights.
   */
  choose(
    head: { headers: HeaderList; pin: string },
    usable: (u: Upstream) => boolean,
    now: number,
  ): { backend: Backend; upstream: Upstream } | undefined {
    if (this.#pinKey && head.pin) {
      const version = verifyPin(this.#pinKey, this.spec.service, head.pin, now);
      const pinned = version ? this.#backends.find((b) => b.version === version) : undefined;
      const choice = pinned && this.pickIn(pinned, usable);
      if (choice) return choice;
    }
    const cohorts = this.spec.cohorts;
    if (cohorts) {
      const version = cohortVersion(this.spec.service, cohorts, head.headers);
      const backend = this.#backends.find((b) => b.version === version);
      const choice = backend && this.pickIn(backend, usable);
      if (choice) return choice;
    }
    return this.pick(usable);
  }

  /**
   * Picks the version by smooth weighted round-robin (as nginx does: exact shares, evenly
   * interleaved, no randomness), skipping versions whose instances are all unusable, then
   * an instance of it by round-robin. Returns undefined when nothing is usable.
   */
  pick(
    usable: (u: Upstream) => boolean,
    exclude?: ReadonlySet<string>,
  ): { backend: Backend; upstream: Upstream } | undefined {
    const ok = (u: Upstream) => usable(u) && !exclude?.has(u.id);
    let total = 0;
    let best = -1;
    for (let i = 0; i < this.#weighted.length; i++) {
      const b = this.#weighted[i]!;
      if (!b.instances.some(ok)) continue;
      this.#current[i]! += b.weight;
      total += b.weight;
      if (best === -1 || this.#current[i]! > this.#current[best]!) best = i;
    }
    if (best === -1) return undefined;
    this.#current[best]! -= total;
    return this.pickIn(this.#weighted[best]!, ok);
  }

  /** The next usable instance of one version, round-robin; undefined when it has none. */
  pickIn(
    backend: Backend,
    usable: (u: Upstream) => boolean,
  ): { backend: Backend; upstream: Upstream } | undefined {
    const index = this.#backends.indexOf(backend);
    if (index === -1) return undefined;
    const count = backend.instances.length;
    for (let step = 0; step < count; step++) {
      const at = (this.#next[index]! + step) % count;
      const upstream = backend.instances[at]!;
      if (usable(upstream)) {
        this.#next[index] = at + 1;
        return { backend, upstream };
      }
    }
    return undefined;
  }
}
