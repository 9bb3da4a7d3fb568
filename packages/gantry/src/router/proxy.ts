import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { CircuitBreaker, defaultBreaker } from "./circuit-breaker.ts";
import { clientResponseHeaders, isReplayable, upstreamRequestHeaders } from "./forward-headers.ts";
import type { RouterPolicy, ServiceRoute, Upstream } from "./policy.ts";
import { type CompiledRoute, RouteTable } from "./route-table.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import { UpstreamPools } from "./upstream-pools.ts";

const maxAttempts = 3;
/** Errors that mean the request never reached the application. */
const connectErrors = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH"]);
/** Errors on a connection before any response byte: safe to replay a replayable request. */
const replayableErrors = new Set([
  ...connectErrors,
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/**
 * The reverse proxy: routes a request by the current policy, forwards it over a keep-alive
 * pool, replays a safe request on another instance when the chosen one refused it, and
 * records the outcome by service and version.
 */
export class ReverseProxy {
  readonly pools = new UpstreamPools();
  readonly #metrics: RouterMetrics;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #now: () => number;
  #table = new RouteTable({ revision: 0, services: [] });

  constructor(metrics: RouterMetrics, now: () => number = Date.now) {
    this.#metrics = metrics;
    this.#now = now;
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
    const fallbacks = policy.services.flatMap((s) => (s.fallback ? [s.fallback] : []));
    this.pools.sync([
      ...policy.services.flatMap((s) => s.backends.flatMap((b) => b.instances)),
      ...fallbacks,
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

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const route = this.#table.match(req.headers.host, req.url ?? "/");
    if (!route) {
      this.#answer(res, 404, "text/plain; charset=utf-8", "no service is routed for this host and path\n");
      this.#metrics.record("", "", 404, (performance.now() - started) / 1000);
      return;
    }
    const mode = this.#modeOf(route.spec);
    if (mode === "maintenance") {
      const page = route.spec.maintenance;
      this.#answer(res, 503, page.contentType, page.body, { "retry-after": String(page.retryAfterSeconds) });
      this.#metrics.record(route.spec.service, "", 503, (performance.now() - started) / 1000);
      return;
    }
    if (mode === "read-only") {
      // The application learns the mode too, so an app with its own logic can adapt.
      req.headers["x-gantry-mode"] = "read-only";
      if (isWrite(req.method) && !allowedWhileReadOnly(route.spec, req.url ?? "/")) {
        this.#readOnlyAnswer(route.spec, req, res);
        this.#metrics.record(route.spec.service, "", 503, (performance.now() - started) / 1000);
        return;
      }
    }
    const breaker = this.#breakers.get(route.spec.service);
    if (breaker && !breaker.allow()) {
      void this.#toFallback(route.spec, req, res, started, "the circuit breaker is open");
      return;
    }
    void this.#forward(route, req, res, started, breaker);
  };

  /** The mode in force: a timed mode ends by itself, even with the control plane away. */
  #modeOf(spec: ServiceRoute): ServiceRoute["mode"] {
    if (spec.mode !== "normal" && spec.modeUntil && Date.parse(spec.modeUntil) <= this.#now())
      return "normal";
    return spec.mode;
  }

  #readOnlyAnswer(spec: ServiceRoute, req: IncomingMessage, res: ServerResponse): void {
    const retry = { "retry-after": String(spec.readOnly?.retryAfterSeconds ?? 60) };
    const message = `${spec.service} is in read-only mode; reads work, writes are refused for now. Try again later.`;
    if ((req.headers.accept ?? "").includes("text/html")) {
      this.#answer(
        res,
        503,
        "text/html; charset=utf-8",
        `<!doctype html><title>Read-only</title><h1>Read-only for a moment</h1><p>${message}</p>\n`,
        retry,
      );
    } else {
      this.#answer(
        res,
        503,
        "application/json",
        JSON.stringify({ error: { code: "READ_ONLY", message } }),
        retry,
      );
    }
  }

  /** Sends a request to the service's fallback upstream, or answers 503 when it has none. */
  async #toFallback(
    spec: ServiceRoute,
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    why: string,
  ): Promise<void> {
    const fallback = spec.fallback;
    if (!fallback) {
      this.#answer(res, 503, "text/plain; charset=utf-8", `${spec.service} is unavailable: ${why}\n`, {
        "retry-after": "1",
      });
      this.#metrics.record(spec.service, "", 503, (performance.now() - started) / 1000);
      return;
    }
    await this.#send(spec.service, "fallback", fallback, req, res, started);
  }

  async #forward(
    route: CompiledRoute,
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    breaker?: CircuitBreaker,
  ): Promise<void> {
    const service = route.spec.service;
    const replayable = isReplayable(req);
    const tried = new Set<string>();
    // No AbortSignal per request (it costs ~15% of throughput): a client that leaves destroys
    // res, and pipeline then destroys the upstream body, which ends the upstream request.
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const choice = route.pick(this.pools.usable, tried);
      const lease = choice && this.pools.acquire(choice.upstream.id);
      if (!choice || !lease) {
        await this.#toFallback(route.spec, req, res, started, "no healthy instance is available");
        return;
      }
      const { upstream, backend } = choice;
      try {
        const answer = await lease.pool.request({
          path: req.url ?? "/",
          method: req.method as "GET",
          headers: upstreamRequestHeaders(req),
          body: replayable ? null : req,
        });
        this.pools.succeeded(upstream.id);
        breaker?.record(answer.statusCode < 500);
        res.writeHead(answer.statusCode, clientResponseHeaders(answer.headers));
        this.#metrics.record(
          service,
          backend.version,
          answer.statusCode,
          (performance.now() - started) / 1000,
        );
        await pipeline(answer.body, res).catch(() => res.destroy());
        return;
      } catch (error) {
        const code = (error as { code?: string }).code ?? "";
        if (connectErrors.has(code)) this.pools.eject(upstream.id);
        if (res.destroyed) return;
        breaker?.record(false);
        if (!res.headersSent && replayable && replayableErrors.has(code) && attempt < maxAttempts) {
          tried.add(upstream.id);
          continue;
        }
        const status = code === "UND_ERR_HEADERS_TIMEOUT" ? 504 : 502;
        this.#answer(
          res,
          status,
          "text/plain; charset=utf-8",
          `the upstream of ${service} failed (${code || "error"})\n`,
        );
        this.#metrics.record(service, backend.version, status, (performance.now() - started) / 1000);
        return;
      } finally {
        lease.release();
      }
    }
  }

  /** One request to one upstream with no replay (the fallback's path). */
  async #send(
    service: string,
    version: string,
    upstream: Upstream,
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
  ): Promise<void> {
    const lease = this.pools.acquire(upstream.id);
    if (!lease) {
      this.#answer(res, 503, "text/plain; charset=utf-8", `${service} is unavailable\n`, {
        "retry-after": "1",
      });
      return;
    }
    try {
      const answer = await lease.pool.request({
        path: req.url ?? "/",
        method: req.method as "GET",
        headers: upstreamRequestHeaders(req),
        body: isReplayable(req) ? null : req,
      });
      res.writeHead(answer.statusCode, clientResponseHeaders(answer.headers));
      this.#metrics.record(service, version, answer.statusCode, (performance.now() - started) / 1000);
      await pipeline(answer.body, res).catch(() => res.destroy());
    } catch (error) {
      if (res.destroyed) return;
      const code = (error as { code?: string }).code ?? "error";
      this.#answer(res, 502, "text/plain; charset=utf-8", `the fallback of ${service} failed (${code})\n`);
      this.#metrics.record(service, version, 502, (performance.now() - started) / 1000);
    } finally {
      lease.release();
    }
  }

  #answer(
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    extra: Record<string, string> = {},
  ): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      ...extra,
    });
    res.end(body);
  }
}

const writeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function isWrite(method: string | undefined): boolean {
  return writeMethods.has(method ?? "GET");
}

function allowedWhileReadOnly(spec: ServiceRoute, url: string): boolean {
  const path = url.split("?")[0]!;
  return (spec.readOnly?.allowPaths ?? []).some(
    (prefix) => path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`),
  );
}
