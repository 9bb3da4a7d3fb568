import type { CircuitBreaker } from "../circuit-breaker.ts";
import type { Backend, Upstream } from "../policy.ts";
import { type LocalAnswer, unavailable } from "../route-decision.ts";
import type { CompiledRoute } from "../route-table.ts";
import type { RouterMetrics } from "../router-metrics.ts";
import type { MirrorCapture, ShadowMirror } from "../shadow.ts";
import type { ClientConnection, RequestHandler } from "./client-connection.ts";
import {
  chunkPrefix,
  chunkSuffix,
  clientResponseHead,
  type Framing,
  lastChunk,
  type RequestHead,
  upstreamRequestHead,
} from "./heads.ts";
import type { InstancePool, InstancePools } from "./instance-pools.ts";
import type { ResponseSink, UpstreamConnection } from "./upstream-connection.ts";

const maxAttempts = 3;
/** Failures that mean no byte reached the instance: safe to send any request elsewhere. */
const connectFailures = new Set([
  "ECONNREFUSED",
  "ECONNTIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
]);
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

export interface ExchangeContext {
  pools: InstancePools;
  metrics: RouterMetrics;
  shadow?: ShadowMirror;
}

interface Target {
  pool: InstancePool;
  version: string;
  backend: Backend | undefined;
}

/**
 * One request forwarded to an instance: picks it (weighted version, then round-robin over
 * usable instances), streams the body both ways with back-pressure, and, when an instance
 * refuses the connection, ejects it and replays the request elsewhere — any request whose
 * body is still held, since the instance saw nothing; when a connection fails after the
 * request went out (a reset, an instance that died mid-request) only a bodiless
 * GET/HEAD/OPTIONS, which is safe to repeat (RFC 9110 §9.2), and never after a timeout.
 */
export class ForwardExchange implements RequestHandler, ResponseSink {
  readonly #ctx: ExchangeContext;
  readonly #conn: ClientConnection;
  readonly #head: RequestHead;
  readonly #route: CompiledRoute;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #upstreamHead: string;
  readonly #started = performance.now();
  #target: Target | undefined;
  #up: UpstreamConnection | undefined;
  #tried: Set<string> | undefined;
  #attempts = 0;
  /** Body bytes read from the client and not yet sent (while a connection is being made). */
  #held: Buffer[] = [];
  #bodySent = false;
  #endSent = false;
  #requestEnded = false;
  #framing: Framing = "none";
  #keepAlive = false;
  #headSent = false;
  #over = false;
  /** The copy of this exchange sent to a shadow candidate, when it is mirrored. */
  #mirror: MirrorCapture | undefined;
  readonly #resumeClient = () => this.#conn.resumeReading();
  readonly #resumeUpstream = () => this.#up?.resumeReading();

  constructor(
    ctx: ExchangeContext,
    conn: ClientConnection,
    head: RequestHead,
    route: CompiledRoute,
    breaker: CircuitBreaker | undefined,
    extraHeaders: Record<string, string>,
  ) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.#head = head;
    this.#route = route;
    this.#breaker = breaker;
    this.#upstreamHead = upstreamRequestHead(head, conn.remoteAddress, extraHeaders);
    this.#requestEnded = !head.hasBody;
    if (head.expectContinue && head.hasBody) conn.write("HTTP/1.1 100 Continue\r\n\r\n");
    this.#mirror = ctx.shadow?.begin(route.spec, head);
  }

  /** Sends the request to an instance, or to the fallback when the breaker says so. */
  start(toFallback: boolean): void {
    const target = toFallback ? this.#fallback() : this.#pick();
    if (!target) {
      this.#answer(unavailable(this.#route.spec.service, "no healthy instance is available"), "");
      return;
    }
    this.#attempts += 1;
    this.#target = target;
    const up = target.pool.take();
    this.#up = up;
    up.send(this.#upstreamHead, this.#head.method, this);
    if (up.connected) this.#flush();
    else up.onConnect = () => this.#flush();
  }

  body(chunk: Buffer): void {
    this.#mirror?.requestBody(chunk);
    const up = this.#up;
    if (up?.connected && this.#held.length === 0) this.#writeBody(up, chunk);
    else {
      this.#held.push(chunk);
      // Nothing more from the client until there is somewhere to put it.
      this.#conn.pauseReading();
    }
  }

  end(): void {
    this.#mirror?.requestEnd();
    this.#requestEnded = true;
    const up = this.#up;
    if (up?.connected && this.#held.length === 0) this.#sendEnd(up);
  }

  abort(): void {
    if (this.#over) return;
    this.#over = true;
    this.#mirror?.cancel();
    const up = this.#up;
    if (up && this.#target) {
      up.destroy();
      this.#target.pool.give(up);
    }
  }

  cork(): void {
    this.#conn.cork();
  }

  uncork(): void {
    if (!this.#conn.uncork() && this.#up && !this.#over) {
      this.#up.pauseReading();
      this.#conn.onceDrained(this.#resumeUpstream);
    }
  }

  onResponseHead(status: number, reason: string, headers: string[]): void {
    this.#target!.pool.succeeded();
    this.#breaker?.record(status < 500);
    // An answer before the request body is all read (413, 401…): close after it rather
    // than read the rest of the body as the next request.
    const keepAlive = this.#head.keepAlive && this.#conn.requestDone && !this.#conn.closing;
    const out = clientResponseHead(status, reason, headers, { ...this.#head, keepAlive });
    this.#framing = out.framing;
    this.#keepAlive = out.keepAlive;
    this.#headSent = true;
    this.#mirror?.responseHead(status, headers);
    this.#conn.write(out.head);
    this.#record(status);
  }

  onResponseBody(chunk: Buffer): void {
    this.#mirror?.responseBody(chunk);
    // Back-pressure is checked once per read from the instance, in uncork.
    const conn = this.#conn;
    if (this.#framing === "chunked") {
      conn.write(chunkPrefix(chunk.length));
      conn.write(chunk);
      conn.write(chunkSuffix);
    } else conn.write(chunk);
  }

  onResponseEnd(): void {
    if (this.#over) return;
    this.#over = true;
    this.#mirror?.responseEnd();
    if (this.#framing === "chunked") this.#conn.write(lastChunk);
    const up = this.#up!;
    // The instance may still expect body bytes we will never send: the connection is spent.
    if (!this.#requestEnded || this.#held.length > 0) up.done = true;
    this.#target!.pool.give(up);
    this.#conn.finish(this.#keepAlive && this.#conn.requestDone);
  }

  onUpstreamError(code: string, reached: boolean): void {
    if (this.#over) return;
    const up = this.#up!;
    const target = this.#target!;
    up.onConnect = undefined;
    target.pool.give(up);
    this.#up = undefined;
    const refused = !reached && connectFailures.has(code);
    if (refused) target.pool.eject(performance.now());
    if (this.#headSent) {
      // Part of the answer is out: all that is left is to cut it, so the client sees it is short.
      this.#over = true;
      this.#mirror?.cancel();
      this.#conn.socket.destroy();
      return;
    }
    const replayable =
      !this.#bodySent &&
      target.backend !== undefined &&
      this.#attempts < maxAttempts &&
      (refused || (code !== "UPSTREAM_TIMEOUT" && safeMethods.has(this.#head.method) && !this.#head.hasBody));
    if (replayable) {
      this.#tried ??= new Set();
      this.#tried.add(target.pool.upstream.id);
      this.start(false);
      return;
    }
    this.#breaker?.record(false);
    const status = code === "UPSTREAM_TIMEOUT" ? 504 : 502;
    const service = this.#route.spec.service;
    this.#answer(
      {
        kind: "answer",
        service,
        status,
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: `the upstream of ${service} failed (${code})\n`,
      },
      target.version,
    );
  }

  #pick(): Target | undefined {
    const pools = this.#ctx.pools;
    const now = performance.now();
    const tried = this.#tried;
    const usable = (u: Upstream) => !tried?.has(u.id) && pools.get(u.id)?.usable(now) === true;
    // A replay stays on the version it was given while that version has a usable instance.
    const last = this.#target?.backend;
    const choice =
      (last && this.#route.pickIn(last, usable)) ?? this.#route.choose(this.#head, usable, Date.now());
    const pool = choice && pools.get(choice.upstream.id);
    if (!choice || !pool) return this.#fallback();
    return { pool, version: choice.backend.version, backend: choice.backend };
  }

  #fallback(): Target | undefined {
    const fallback = this.#route.spec.fallback;
    const pool = fallback ? this.#ctx.pools.get(fallback.id) : undefined;
    return pool?.active ? { pool, version: "fallback", backend: undefined } : undefined;
  }

  #flush(): void {
    const up = this.#up;
    if (!up) return;
    up.onConnect = undefined;
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) this.#writeBody(up, chunk);
    if (this.#requestEnded) this.#sendEnd(up);
    if (held.length > 0) this.#conn.resumeReading();
  }

  /** The end of a chunked request body (a Content-Length body ends by itself). */
  #sendEnd(up: UpstreamConnection): void {
    if (this.#endSent || !this.#head.chunked) return;
    this.#endSent = true;
    this.#bodySent = true;
    up.write(lastChunk);
  }

  #writeBody(up: UpstreamConnection, chunk: Buffer): void {
    this.#bodySent = true;
    let ok: boolean;
    if (this.#head.chunked) {
      up.write(chunkPrefix(chunk.length));
      up.write(chunk);
      ok = up.write(chunkSuffix);
    } else ok = up.write(chunk);
    if (!ok) {
      this.#conn.pauseReading();
      up.onceDrained(this.#resumeClient);
    }
  }

  #answer(answer: LocalAnswer, version: string): void {
    this.#over = true;
    this.#mirror?.cancel();
    this.#conn.answer(answer.status, answer.headers, answer.body, this.#head);
    this.#record(answer.status, version);
  }

  #record(status: number, version = this.#target?.version ?? ""): void {
    const seconds = (performance.now() - this.#started) / 1000;
    this.#ctx.metrics.record(this.#route.spec.service, version, status, seconds);
  }
}
