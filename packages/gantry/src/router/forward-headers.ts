import type { IncomingHttpHeaders, IncomingMessage } from "node:http";

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross a proxy. */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
]);

function connectionTokens(value: string | string[] | undefined): string[] {
  if (!value) return [];
  return (Array.isArray(value) ? value.join(",") : value).split(",").map((t) => t.trim().toLowerCase());
}

/** The request headers an upstream gets: end-to-end headers, the original Host, and X-Forwarded-*. */
export function upstreamRequestHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const drop = new Set(connectionTokens(req.headers.connection));
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || hopByHop.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  const client = req.socket.remoteAddress ?? "";
  const prior = req.headers["x-forwarded-for"];
  out["x-forwarded-for"] = prior ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${client}` : client;
  out["x-forwarded-proto"] = "http";
  if (req.headers.host) out["x-forwarded-host"] = req.headers.host;
  return out;
}

/** The response headers a client gets from an upstream's answer. */
export function clientResponseHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const drop = new Set(connectionTokens(headers.connection));
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Whether a failed attempt may be sent again to another instance: no body, and a safe method. */
export function isReplayable(req: IncomingMessage): boolean {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") return false;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] === undefined && (length === undefined || length === "0");
}
