import { isDeepStrictEqual } from "node:util";
import { Agent, request } from "undici";
import type { RequestHead } from "./http1/heads.ts";
import type { ServiceRoute, Upstream } from "./policy.ts";

/**
 * Shadow traffic (a dark launch): the router copies a share of a service's requests to a
 * candidate version, compares its answer with the one the user got, and keeps counts. The
 * candidate never answers a user: its response is read, compared and dropped. Mirroring is
 * bounded — requests in flight, bytes captured — and skips (counted) rather than waits, so
 * it cannot slow the primary path.
 */
export interface ShadowSettings {
  /** The candidate version; its instances are in the route's backends (weight 0). */
  version: string;
  /** Share of eligible requests mirrored, in percent. */
  share: number;
  /** Methods mirrored (idempotent ones unless configured otherwise). */
  methods: string[];
  /** JSON fields ignored when comparing bodies: "version", "meta.requestId", "items.*.id". */
  ignore: string[];
  /** Mirrored requests in flight at most; beyond, requests are skipped. */
  maxConcurrent: number;
  /** Request and response bytes captured at most; a larger exchange is skipped. */
  maxBodyBytes: number;
  timeoutMs: number;
}

export interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
  ms: number;
}

/** Whether two answers agree: status, then body (JSON compared as data, minus ignored fields; else bytes). */
export function compareAnswers(
  primary: Answer,
  shadow: Answer,
  ignore: readonly string[],
): string | undefined {
  if (primary.status !== shadow.status) return `status ${shadow.status} instead of ${primary.status}`;
  const json = (a: Answer) => /[/+]json\b/i.test(a.contentType);
  if (json(primary) && json(shadow)) {
    let a: unknown;
    let b: unknown;
    try {
      a = withoutFields(JSON.parse(primary.body.toString("utf8")), ignore);
    } catch {
      return primary.body.equals(shadow.body) ? undefined : "body differs (not valid JSON)";
    }
    try {
      b = withoutFields(JSON.parse(shadow.body.toString("utf8")), ignore);
    } catch {
      return "body is not valid JSON";
    }
    return isDeepStrictEqual(a, b) ? undefined : `body differs at ${firstDifference(a, b, "$")}`;
  }
  return primary.body.equals(shadow.body) ? undefined : "body differs";
}

/** A copy of a JSON value without the fields at the given paths ("a.b", "items.*.id"). */
export function withoutFields(value: unknown, paths: readonly string[]): unknown {
  let out = value;
  for (const path of paths) out = drop(out, path.split("."));
  return out;
}

function drop(value: unknown, path: string[]): unknown {
  if (path.length === 0 || value === null || typeof value !== "object") return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) return head === "*" ? value.map((v) => drop(v, rest)) : value;
  const object = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    if (key === head || head === "*") {
      if (rest.length === 0) continue;
      copy[key] = drop(object[key], rest);
    } else copy[key] = object[key];
  }
  return copy;
}

function firstDifference(a: unknown, b: unknown, at: string): string {
  if (
    a === null ||
    b === null ||
    typeof a !== "object" ||
    typeof b !== "object" ||
    Array.isArray(a) !== Array.isArray(b)
  )
    return at;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (!isDeepStrictEqual(x, y))
      return firstDifference(x, y, Array.isArray(a) ? `${at}[${key}]` : `${at}.${key}`);
  }
  return at;
}

export interface ShadowStats {
  version: string;
  mirrored: number;
  matched: number;
  mismatched: number;
  /** The candidate failed to answer (refused, reset, timeout). */
  errors: number;
  /** Eligible requests not mirrored: over the concurrency bound, or too large to capture. */
  skipped: number;
  /** Summed latency of the compared exchanges, each side, in ms. */
  primaryMs: number;
  shadowMs: number;
  /** The latest mismatches, newest last. */
  recent: { at: string; method: string; path: string; reason: string }[];
}

const keepMismatches = 20;
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
  "expect",
  "x-gantry-pin",
]);

/** The router's mirrors, one set of counts per service. */
export class ShadowMirror {
  readonly #stats = new Map<string, ShadowStats>();
  readonly #agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  /** Mirroring credit by service: each eligible request adds share/100, a whole one mirrors. */
  readonly #credit = new Map<string, number>();
  #inFlight = 0;
  #next = 0;

  stats(): Record<string, ShadowStats> {
    return Object.fromEntries(this.#stats);
  }

  /** Starts capturing one exchange for mirroring, or undefined when this request is not mirrored. */
  begin(spec: ServiceRoute, head: RequestHead): MirrorCapture | undefined {
    const shadow = spec.shadow;
    if (!shadow?.methods.includes(head.method)) return undefined;
    // An even spread of the share, per service: every request adds share/100 of a credit.
    const credit = (this.#credit.get(spec.service) ?? 0) + shadow.share / 100;
    this.#credit.set(spec.service, credit >= 1 ? credit - 1 : credit);
    if (credit < 1) return undefined;
    const stats = this.#statsFor(spec.service, shadow.version);
    const instances = spec.backends.find((b) => b.version === shadow.version)?.instances ?? [];
    if (instances.length === 0 || this.#inFlight >= shadow.maxConcurrent) {
      stats.skipped += 1;
      return undefined;
    }
    const upstream = instances[this.#next++ % instances.length]!;
    return new MirrorCapture(this, stats, shadow, upstream, head);
  }

  async send(c: MirrorCapture, upstream: Upstream, body: Buffer | null): Promise<Answer> {
    this.#inFlight += 1;
    const started = performance.now();
    try {
      const response = await request(`http://${upstream.host}:${upstream.port}${c.head.url}`, {
        method: c.head.method as "GET",
        headers: mirrorHeaders(c.head),
        body,
        dispatcher: this.#agent,
        headersTimeout: c.settings.timeoutMs,
        bodyTimeout: c.settings.timeoutMs,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size <= c.settings.maxBodyBytes) chunks.push(chunk as Buffer);
      }
      const type = response.headers["content-type"];
      return {
        status: response.statusCode,
        contentType: typeof type === "string" ? type : "",
        body: size <= c.settings.maxBodyBytes ? Buffer.concat(chunks) : Buffer.alloc(0),
        ms: performance.now() - started,
      };
    } finally {
      this.#inFlight -= 1;
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  #statsFor(service: string, version: string): ShadowStats {
    let stats = this.#stats.get(service);
    if (!stats || stats.version !== version) {
      stats = {
        version,
        mirrored: 0,
        matched: 0,
        mismatched: 0,
        errors: 0,
        skipped: 0,
        primaryMs: 0,
        shadowMs: 0,
        recent: [],
      };
      this.#stats.set(service, stats);
    }
    return stats;
  }
}

function mirrorHeaders(head: RequestHead): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < head.headers.length; i += 2) {
    const name = head.headers[i]!.toLowerCase();
    if (!hopByHop.has(name))
      headers[name] = headers[name] ? `${headers[name]}, ${head.headers[i + 1]}` : head.headers[i + 1]!;
  }
  // The application may keep a shadow request from acting (sending mail, charging a card).
  headers["x-gantry-shadow"] = "1";
  return headers;
}

/**
 * One exchange being mirrored: the request body and the primary's answer are captured as
 * they pass (up to the byte bound), the copy is sent once the request is whole, and the two
 * answers are compared when both are in.
 */
export class MirrorCapture {
  readonly #mirror: ShadowMirror;
  readonly #stats: ShadowStats;
  readonly settings: ShadowSettings;
  readonly head: RequestHead;
  readonly #upstream: Upstream;
  readonly #started = performance.now();
  #requestBody: Buffer[] = [];
  #requestBytes = 0;
  #primary: Buffer[] = [];
  #primaryBytes = 0;
  #primaryStatus = 0;
  #primaryType = "";
  #primaryAnswer: Answer | undefined;
  #shadow: Promise<Answer> | undefined;
  #dropped = false;

  constructor(
    mirror: ShadowMirror,
    stats: ShadowStats,
    settings: ShadowSettings,
    upstream: Upstream,
    head: RequestHead,
  ) {
    this.#mirror = mirror;
    this.#stats = stats;
    this.settings = settings;
    this.#upstream = upstream;
    this.head = head;
    if (!head.hasBody) this.#send();
  }

  requestBody(chunk: Buffer): void {
    if (this.#dropped) return;
    this.#requestBytes += chunk.length;
    if (this.#requestBytes > this.settings.maxBodyBytes) {
      this.#drop();
      return;
    }
    this.#requestBody.push(chunk);
  }

  requestEnd(): void {
    if (!this.#dropped && !this.#shadow) this.#send();
  }

  responseHead(status: number, headers: string[]): void {
    this.#primaryStatus = status;
    for (let i = 0; i < headers.length; i += 2)
      if (headers[i]!.toLowerCase() === "content-type") this.#primaryType = headers[i + 1]!;
  }

  responseBody(chunk: Buffer): void {
    if (this.#dropped) return;
    this.#primaryBytes += chunk.length;
    if (this.#primaryBytes > this.settings.maxBodyBytes) {
      this.#drop();
      return;
    }
    this.#primary.push(chunk);
  }

  responseEnd(): void {
    if (this.#dropped) return;
    this.#primaryAnswer = {
      status: this.#primaryStatus,
      contentType: this.#primaryType,
      body: Buffer.concat(this.#primary),
      ms: performance.now() - this.#started,
    };
    this.#primary = [];
    void this.#compare();
  }

  /** The primary failed (no answer to compare with): the mirror's answer is dropped uncounted. */
  cancel(): void {
    this.#dropped = true;
  }

  #drop(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#stats.skipped += 1;
    this.#requestBody = [];
    this.#primary = [];
  }

  #send(): void {
    const body = this.head.hasBody ? Buffer.concat(this.#requestBody) : null;
    this.#requestBody = [];
    this.#shadow = this.#mirror.send(this, this.#upstream, body);
    // Awaited in #compare; a failure before that must not be an unhandled rejection.
    this.#shadow.catch(() => undefined);
  }

  async #compare(): Promise<void> {
    const primary = this.#primaryAnswer;
    if (!primary || !this.#shadow) return;
    const stats = this.#stats;
    let shadow: Answer;
    try {
      shadow = await this.#shadow;
    } catch {
      if (!this.#dropped) {
        stats.mirrored += 1;
        stats.errors += 1;
      }
      return;
    }
    if (this.#dropped) return;
    stats.mirrored += 1;
    stats.primaryMs += primary.ms;
    stats.shadowMs += shadow.ms;
    const reason = compareAnswers(primary, shadow, this.settings.ignore);
    if (reason === undefined) stats.matched += 1;
    else {
      stats.mismatched += 1;
      const path = this.head.url.split("?")[0]!;
      stats.recent.push({ at: new Date().toISOString(), method: this.head.method, path, reason });
      if (stats.recent.length > keepMismatches) stats.recent.shift();
    }
  }
}
