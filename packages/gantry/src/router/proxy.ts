import { CircuitBreaker, defaultBreaker } from "./circuit-breaker.ts";
import type { ClientConnection, RequestHandler } from "./http1/client-connection.ts";
import { ForwardExchange } from "./http1/forward-exchange.ts";
import type { RequestHead } from "./http1/heads.ts";
import { defaultPoolSettings, InstancePools, type PoolSettings } from "./http1/instance-pools.ts";
import type { RouterPolicy } from "./policy.ts";
import { decideRoute, type LocalAnswer, unavailable } from "./route-decision.ts";
import { RouteTable } from "./route-table.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import { ShadowMirror } from "./shadow.ts";

/** What a request the router answers itself needs from the connection (nothing more to read). */
const ignoreBody: RequestHandler = { body() {}, end() {}, abort() {} };

/**
 * The reverse proxy's policy side: the route table, the pools per instance and the breaker
 * per service, swapped whole when a policy arrives (a request keeps the table it started
 * with). `dispatch` is what the HTTP/1.1 server calls for each request.
 */
export class ReverseProxy {
  readonly pools: InstancePools;
  readonly shadow = new ShadowMirror();
  readonly #metrics: RouterMetrics;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #now: () => number;
  #table = new RouteTable({ revision: 0, services: [] });

  constructor(metrics: RouterMetrics, o: { now?: () => number; pools?: PoolSettings } = {}) {
    this.#metrics = metrics;
    this.#now = o.now ?? Date.now;
    this.pools = new InstancePools(o.pools ?? defaultPoolSettings);
  }

  /** Breaker state by service, for the admin API and `gantry status`. */
  breakers(): Record<string, string> {
    return Object.fromEntries([...this.#breakers].map(([service, b]) => [service, b.state]));
  }

  get revision(): number {
    return this.#table.revision;
  }

  setPolicy(policy: RouterPolicy): void {
    const table = new RouteTable(policy);
    this.pools.sync([
      ...policy.services.flatMap((s) => s.backends.flatMap((b) => b.instances)),
      ...policy.services.flatMap((s) => (s.fallback ? [s.fallback] : [])),
    ]);
    // Breakers keep their counts across policy changes; only their settings follow the policy.
    for (const service of policy.services) {
      const settings = service.breaker ?? defaultBreaker;
      const breaker = this.#breakers.get(service.service);
      if (breaker) breaker.settings = settings;
      else this.#breakers.set(service.service, new CircuitBreaker(settings, this.#now));
    }
    for (const name of this.#breakers.keys())
      if (!policy.services.some((s) => s.service === name)) this.#breakers.delete(name);
    this.#table = table;
  }

  dispatch = (conn: ClientConnection, head: RequestHead): RequestHandler => {
    const decision = decideRoute(this.#table, head, this.#now());
    if (decision.kind === "answer") return this.#answer(conn, head, decision);
    const spec = decision.route.spec;
    const breaker = this.#breakers.get(spec.service);
    const open = breaker !== undefined && !breaker.allow();
    if (open && !spec.fallback)
      return this.#answer(conn, head, unavailable(spec.service, "the circuit breaker is open"));
    const ctx = { pools: this.pools, metrics: this.#metrics, shadow: this.shadow };
    const exchange = new ForwardExchange(ctx, conn, head, decision.route, breaker, decision.extraHeaders);
    exchange.start(open);
    return exchange;
  };

  #answer(conn: ClientConnection, head: RequestHead, answer: LocalAnswer): RequestHandler {
    const started = performance.now();
    conn.answer(answer.status, answer.headers, answer.body, head);
    this.#metrics.record(answer.service, "", answer.status, (performance.now() - started) / 1000);
    return ignoreBody;
  }
}
