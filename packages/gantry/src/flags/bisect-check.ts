import { type Histogram, quantile } from "../analysis/index.ts";
import { GantryError } from "../errors/index.ts";

/**
 * The check a bisection runs after applying each prefix, parsed from one line:
 *
 *   http:[METHOD ]URL [header:NAME=VALUE]... [status<N | status<=N | status=N | status!=N]
 *     `samples` requests (one after another); passes when every one answers as expected
 *     (default status<500) within the timeout.
 *   sli:SERVICE CONDITION[,CONDITION]...   CONDITION: error-rate<1% | p99<300ms | p95<=1s | p50<...
 *     the router's counts of SERVICE over `window` (every version); passes when every
 *     condition holds. Fewer than `minRequests` requests is no answer, not a pass.
 */
export type BisectCheck = HttpCheck | SliCheck;

export interface HttpCheck {
  readonly kind: "http";
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expect: { readonly op: StatusOp; readonly status: number };
  readonly samples: number;
  readonly timeoutMs: number;
}

export interface SliCheck {
  readonly kind: "sli";
  readonly service: string;
  readonly conditions: readonly SliCondition[];
  readonly windowMs: number;
  readonly minRequests: number;
}

export interface SliCondition {
  readonly metric: "error-rate" | "p50" | "p90" | "p95" | "p99";
  readonly op: "<" | "<=";
  /** A fraction (error-rate) or milliseconds (latency). */
  readonly value: number;
  /** As written, for messages. */
  readonly text: string;
}

type StatusOp = "<" | "<=" | "=" | "!=";

export interface CheckSettings {
  samples?: number | undefined;
  timeoutMs?: number | undefined;
  windowMs?: number | undefined;
  minRequests?: number | undefined;
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
const SYNTAX =
  'write "http:GET http://host/path status<500" (optional: METHOD, header:NAME=VALUE, status<N|<=N|=N|!=N) or "sli:SERVICE error-rate<1%" (conditions error-rate<P%, p50|p90|p95|p99<DURATION, joined by commas)';

/** Parses a check; a bad one is BAD_REQUEST naming the part, the value and the syntax. */
export function parseCheck(text: string, settings: CheckSettings = {}): BisectCheck {
  const trimmed = text.trim();
  if (trimmed.startsWith("http:")) return parseHttp(trimmed.slice(5).trim(), settings);
  if (trimmed.startsWith("sli:")) return parseSli(trimmed.slice(4).trim(), settings);
  throw bad(`check ${JSON.stringify(text)} is neither http:... nor sli:...`);
}

function parseHttp(rest: string, settings: CheckSettings): HttpCheck {
  const words = rest.split(/\s+/).filter((w) => w !== "");
  let method = "GET";
  if (words[0] && METHODS.includes(words[0].toUpperCase()) && words.length > 1)
    method = words.shift()!.toUpperCase();
  const url = words.shift();
  if (!url) throw bad("the http check has no URL");
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw bad(`${JSON.stringify(url)} is not a URL (give it whole: http://host:port/path)`);
  }
  if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:")
    throw bad(`the http check's URL must be http:// or https://, not ${parsedUrl.protocol}//`);
  const headers: Record<string, string> = {};
  let expect: HttpCheck["expect"] = { op: "<", status: 500 };
  for (const word of words) {
    const header = /^header:([A-Za-z0-9-]+)=(.*)$/.exec(word);
    if (header) {
      headers[header[1]!.toLowerCase()] = header[2]!;
      continue;
    }
    const status = /^status(<=|<|!=|=)(\d{3})$/.exec(word);
    if (status) {
      expect = { op: status[1] as StatusOp, status: Number(status[2]) };
      continue;
    }
    throw bad(`${JSON.stringify(word)} in the http check is neither header:NAME=VALUE nor status<N`);
  }
  return {
    kind: "http",
    method,
    url: parsedUrl.href,
    headers,
    expect,
    samples: positive(settings.samples ?? 20, "samples", 1, 10_000),
    timeoutMs: positive(settings.timeoutMs ?? 5000, "timeout", 1, 600_000),
  };
}

function parseSli(rest: string, settings: CheckSettings): SliCheck {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s+(.+)$/.exec(rest);
  if (!match)
    throw bad(
      `the sli check needs a service and conditions ("sli:web error-rate<1%"), got ${JSON.stringify(rest)}`,
    );
  const conditions = match[2]!
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "")
    .map(parseCondition);
  return {
    kind: "sli",
    service: match[1]!,
    conditions,
    windowMs: positive(settings.windowMs ?? 10_000, "window", 100, 3_600_000),
    minRequests: positive(settings.minRequests ?? 20, "minRequests", 1, 100_000_000),
  };
}

function parseCondition(text: string): SliCondition {
  const rate = /^error-rate(<=|<)(\d+(?:\.\d+)?)%$/.exec(text);
  if (rate) return { metric: "error-rate", op: rate[1] as "<" | "<=", value: Number(rate[2]) / 100, text };
  const latency = /^(p50|p90|p95|p99)(<=|<)(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (latency) {
    const ms = Number(latency[3]) * (latency[4] === "s" ? 1000 : 1);
    return { metric: latency[1] as SliCondition["metric"], op: latency[2] as "<" | "<=", value: ms, text };
  }
  throw bad(`${JSON.stringify(text)} is not an SLI condition (error-rate<1%, p99<300ms, p95<=1s)`);
}

function positive(value: number, field: string, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max)
    throw new GantryError("BAD_REQUEST", `${field} must be from ${min} to ${max}, not ${value}`, { field });
  return value;
}

function bad(message: string): GantryError {
  return new GantryError("BAD_REQUEST", `${message}; ${SYNTAX}`, { field: "check" });
}

/** The check as one line, as a person would write it. */
export function describeCheck(check: BisectCheck): string {
  if (check.kind === "sli") return `sli:${check.service} ${check.conditions.map((c) => c.text).join(",")}`;
  const headers = Object.entries(check.headers).map(([k, v]) => ` header:${k}=${v}`);
  return `http:${check.method} ${check.url}${headers.join("")} status${check.expect.op}${check.expect.status}`;
}

export function statusPasses(expect: HttpCheck["expect"], status: number): boolean {
  switch (expect.op) {
    case "<":
      return status < expect.status;
    case "<=":
      return status <= expect.status;
    case "=":
      return status === expect.status;
    case "!=":
      return status !== expect.status;
  }
}

/** The outcome of one check: passed or not, and what was seen, in words. */
export interface CheckOutcome {
  readonly passed: boolean;
  readonly detail: string;
}

/** Judges HTTP probe answers (a status, or an error such as a timeout). */
export function judgeHttp(check: HttpCheck, answers: readonly (number | string)[]): CheckOutcome {
  const failed = answers.filter((a) => typeof a === "string" || !statusPasses(check.expect, a));
  const expected = `status${check.expect.op}${check.expect.status}`;
  if (failed.length === 0)
    return { passed: true, detail: `${answers.length}/${answers.length} answered ${expected}` };
  const counts = new Map<string, number>();
  for (const a of failed) counts.set(String(a), (counts.get(String(a)) ?? 0) + 1);
  const seen = [...counts].map(([what, n]) => `${what} ×${n}`).join(", ");
  return { passed: false, detail: `${failed.length}/${answers.length} not ${expected}: ${seen}` };
}

/** What the router counted for a service over the window (every version together). */
export interface WindowTraffic {
  readonly requests: number;
  readonly errors: number;
  readonly latency: Histogram;
}

/** Judges SLI conditions over a window; undefined when there was too little traffic to say. */
export function judgeSli(check: SliCheck, traffic: WindowTraffic): CheckOutcome | undefined {
  if (traffic.requests < check.minRequests) return undefined;
  const parts: string[] = [];
  let passed = true;
  for (const condition of check.conditions) {
    const value =
      condition.metric === "error-rate"
        ? traffic.errors / traffic.requests
        : (quantile(traffic.latency, Number(condition.metric.slice(1)) / 100) ?? 0);
    const holds = condition.op === "<" ? value < condition.value : value <= condition.value;
    passed &&= holds;
    const shown =
      condition.metric === "error-rate"
        ? `error rate ${(value * 100).toFixed(2)}% (${traffic.errors}/${traffic.requests})`
        : `${condition.metric} ${Math.round(value)} ms`;
    parts.push(`${shown} ${holds ? "meets" : "breaks"} ${condition.text}`);
  }
  return { passed, detail: parts.join("; ") };
}
