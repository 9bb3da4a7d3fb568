import type { ServiceMode, ServiceRoute } from "./policy.ts";
import type { CompiledRoute, RouteTable } from "./route-table.ts";

/** The parts of a request that decide where it goes. */
export interface RequestFacts {
  host: string;
  url: string;
  method: string;
  accept: string;
}

/** An answer the router gives itself, counted under its service with version "". */
export interface LocalAnswer {
  kind: "answer";
  service: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Forward {
  kind: "forward";
  route: CompiledRoute;
  /** Headers the application gets on top of the request's (e.g. X-Gantry-Mode). */
  extraHeaders: Record<string, string>;
}

const noHeaders: Record<string, string> = {};
const readOnlyHeaders: Record<string, string> = { "x-gantry-mode": "read-only" };
const writeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Where a request goes under the policy, before any instance is chosen: no route (404), the
 * maintenance page, a write refused in read-only mode, or forward. Pure but for `now`.
 */
export function decideRoute(table: RouteTable, req: RequestFacts, now: number): LocalAnswer | Forward {
  const route = table.match(req.host, req.url);
  if (!route) {
    return {
      kind: "answer",
      service: "",
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: "no service is routed for this host and path\n",
    };
  }
  const spec = route.spec;
  const mode = modeAt(spec, now);
  if (mode === "maintenance") {
    const page = spec.maintenance;
    return {
      kind: "answer",
      service: spec.service,
      status: 503,
      headers: { "content-type": page.contentType, "retry-after": String(page.retryAfterSeconds) },
      body: page.body,
    };
  }
  if (mode === "read-only") {
    if (writeMethods.has(req.method) && !allowedWhileReadOnly(spec, req.url))
      return readOnlyAnswer(spec, req.accept);
    // The application learns the mode too, so an app with its own logic can adapt.
    return { kind: "forward", route, extraHeaders: readOnlyHeaders };
  }
  return { kind: "forward", route, extraHeaders: noHeaders };
}

/** The mode in force: a timed mode ends by itself, even with the control plane away. */
export function modeAt(spec: ServiceRoute, now: number): ServiceMode {
  if (spec.mode !== "normal" && spec.modeUntil && Date.parse(spec.modeUntil) <= now) return "normal";
  return spec.mode;
}

/** The 503 for a service with no instance to serve and no fallback. */
export function unavailable(service: string, why: string): LocalAnswer {
  return {
    kind: "answer",
    service,
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "1" },
    body: `${service} is unavailable: ${why}\n`,
  };
}

function readOnlyAnswer(spec: ServiceRoute, accept: string): LocalAnswer {
  const retry = String(spec.readOnly?.retryAfterSeconds ?? 60);
  const message = `${spec.service} is in read-only mode; reads work, writes are refused for now. Try again later.`;
  if (accept.includes("text/html")) {
    return {
      kind: "answer",
      service: spec.service,
      status: 503,
      headers: { "content-type": "text/html; charset=utf-8", "retry-after": retry },
      body: `<!doctype html><title>Read-only</title><h1>Read-only for a moment</h1><p>${message}</p>\n`,
    };
  }
  return {
    kind: "answer",
    service: spec.service,
    status: 503,
    headers: { "content-type": "application/json", "retry-after": retry },
    body: JSON.stringify({ error: { code: "READ_ONLY", message } }),
  };
}

function allowedWhileReadOnly(spec: ServiceRoute, url: string): boolean {
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  return (spec.readOnly?.allowPaths ?? []).some(
    (prefix) => path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`),
  );
}
