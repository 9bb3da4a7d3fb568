import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { clientResponseHeaders, isReplayable, upstreamRequestHeaders } from "./forward-headers.ts";
import type { RouterPolicy } from "./policy.ts";
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
  #table = new RouteTable({ revision: 0, services: [] });

  constructor(metrics: RouterMetrics) {
    this.#metrics = metrics;
  }

  get revision(): number {
    return this.#table.revision;
  }

  setPolicy(policy: RouterPolicy): void {
    const table = new RouteTable(policy);
    this.pools.sync(policy.services.flatMap((s) => s.backends.flatMap((b) => b.instances)));
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
    if (route.spec.mode === "maintenance") {
      const page = route.spec.maintenance;
      this.#answer(res, 503, page.contentType, page.body, { "retry-after": String(page.retryAfterSeconds) });
      this.#metrics.record(route.spec.service, "", 503, (performance.now() - started) / 1000);
      return;
    }
    void this.#forward(route, req, res, started);
  };

  async #forward(
    route: CompiledRoute,
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
  ): Promise<void> {
    const service = route.spec.service;
    const replayable = isReplayable(req);
    const tried = new Set<string>();
    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const choice = route.pick(this.pools.usable, tried);
      const lease = choice && this.pools.acquire(choice.upstream.id);
      if (!choice || !lease) {
        this.#answer(
          res,
          503,
          "text/plain; charset=utf-8",
          `no healthy instance of ${service} is available\n`,
          { "retry-after": "1" },
        );
        this.#metrics.record(service, "", 503, (performance.now() - started) / 1000);
        return;
      }
      const { upstream, backend } = choice;
      try {
        const answer = await lease.pool.request({
          path: req.url ?? "/",
          method: req.method as "GET",
          headers: upstreamRequestHeaders(req),
          body: replayable ? null : req,
          signal: abort.signal,
        });
        this.pools.succeeded(upstream.id);
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
        if (abort.signal.aborted) return;
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
