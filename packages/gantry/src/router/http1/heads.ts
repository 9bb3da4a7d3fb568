import { STATUS_CODES } from "node:http";

/**
 * Message heads on the way through the proxy, as pure functions of the parsed head: what
 * the instance is sent, what the client is sent, and how each body is framed. Headers are
 * llhttp's flat list [name, value, name, value, …] with names as the peer spelled them.
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers the proxy sets itself. */
const notForwarded = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
  "content-length",
  "expect",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  // A pin ticket is for the router; the application never sees it.
  "x-gantry-pin",
];

/**
 * Header names the proxy acts on, recognised in any case without lower-casing the name (a
 * copy for every capitalised name of every message, a tenth of the work of building a
 * head): candidates by length and first letter, then compared letter by letter.
 */
class HeaderNames {
  readonly #byKey: (string[] | undefined)[] = [];

  constructor(lowerCaseNames: Iterable<string>) {
    for (const name of lowerCaseNames) {
      const at = key(name);
      this.#byKey[at] = [...(this.#byKey[at] ?? []), name];
    }
  }

  /** The lower-case name of the set that `name` is, in any case; undefined when none. */
  find(name: string): string | undefined {
    const candidates = this.#byKey[key(name)];
    if (candidates === undefined) return undefined;
    for (const candidate of candidates) if (startsWithLowerCase(name, candidate)) return candidate;
    return undefined;
  }
}

function key(name: string): number {
  return name.length < 64 ? name.length * 32 + (name.charCodeAt(0) & 31) : 0;
}

/** Whether `name` starts with `lower` (lower-case) in any case. */
function startsWithLowerCase(name: string, lower: string): boolean {
  if (name.length < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

const hopByHop = new HeaderNames(notForwarded);

/** The names readRequestHead looks for. */
const readNames = new HeaderNames([
  "host",
  "accept",
  "content-length",
  "transfer-encoding",
  "expect",
  "x-forwarded-for",
  "connection",
  "x-gantry-pin",
]);

/** What the proxy needs to know of a request head, read in one pass over its headers. */
export interface RequestHead {
  method: string;
  url: string;
  versionMinor: number;
  headers: string[];
  /** Host header as sent (with port), "" when absent. */
  host: string;
  accept: string;
  /** The request has a body: chunked, or a Content-Length above 0. */
  hasBody: boolean;
  /** The body is chunked (else it is Content-Length long, if any). */
  chunked: boolean;
  contentLength: string | undefined;
  /** The client asked for 100 Continue before sending its body. */
  expectContinue: boolean;
  keepAlive: boolean;
  forwardedFor: string;
  /** Header names the client's Connection header lists (also hop-by-hop), beyond those always dropped. */
  connectionTokens: string[];
  /** The X-Gantry-Pin ticket, "" when absent (read here, in the one pass over the headers). */
  pin: string;
}

export function readRequestHead(
  method: string,
  url: string,
  versionMinor: number,
  headers: string[],
  keepAlive: boolean,
): RequestHead {
  const head: RequestHead = {
    method,
    url,
    versionMinor,
    headers,
    host: "",
    accept: "",
    hasBody: false,
    chunked: false,
    contentLength: undefined,
    expectContinue: false,
    keepAlive,
    forwardedFor: "",
    connectionTokens: [],
    pin: "",
  };
  for (let i = 0; i < headers.length; i += 2) {
    const value = headers[i + 1]!;
    switch (readNames.find(headers[i]!)) {
      case "host":
        head.host = value;
        break;
      case "accept":
        head.accept = value;
        break;
      case "content-length":
        head.contentLength = value;
        if (value !== "0") head.hasBody = true;
        break;
      case "transfer-encoding":
        // llhttp has checked that chunked is the final coding and that no length comes with it.
        head.chunked = true;
        head.hasBody = true;
        break;
      case "expect":
        head.expectContinue = value.toLowerCase() === "100-continue";
        break;
      case "x-forwarded-for":
        head.forwardedFor = head.forwardedFor ? `${head.forwardedFor}, ${value}` : value;
        break;
      case "connection":
        head.connectionTokens = head.connectionTokens.concat(connectionTokens(value));
        break;
      case "x-gantry-pin":
        head.pin = value;
        break;
    }
  }
  return head;
}

/**
 * The head sent to the instance: end-to-end headers as received (Host kept), X-Forwarded-*
 * set by the proxy (For appended to, Proto and Host replaced so a client cannot forge them),
 * and the client's framing (Content-Length or chunked; llhttp has checked it and decodes
 * it, the proxy re-frames the same way, so both sides always agree on where a body ends).
 */
export function upstreamRequestHead(
  req: RequestHead,
  clientAddress: string,
  extra: Record<string, string> = {},
): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const tokens = req.connectionTokens;
  const headers = req.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (hopByHop.find(name) !== undefined) continue;
    if (tokens.length > 0 && tokens.includes(name.toLowerCase())) continue;
    head += `${name}: ${headers[i + 1]}\r\n`;
  }
  const forwardedFor = req.forwardedFor ? `${req.forwardedFor}, ${clientAddress}` : clientAddress;
  head += `x-forwarded-for: ${forwardedFor}\r\nx-forwarded-proto: http\r\n`;
  if (req.host) head += `x-forwarded-host: ${req.host}\r\n`;
  for (const name in extra) head += `${name}: ${extra[name]}\r\n`;
  if (req.chunked) head += "transfer-encoding: chunked\r\n";
  else if (req.contentLength !== undefined) head += `content-length: ${req.contentLength}\r\n`;
  return `${head}\r\n`;
}

/**
 * The header names a Connection header lists, which are hop-by-hop too (RFC 9110 §7.6.1);
 * "close" and names dropped anyway (keep-alive…) are left out, so the usual
 * "Connection: keep-alive" lists nothing more to look for.
 */
function connectionTokens(value: string): string[] {
  if (value.length === 10 && startsWithLowerCase(value, "keep-alive")) return [];
  const out: string[] = [];
  for (const raw of value.split(",")) {
    const token = raw.trim().toLowerCase();
    if (token !== "" && token !== "close" && hopByHop.find(token) === undefined) out.push(token);
  }
  return out;
}

/** How a response body travels to the client. */
export type Framing = "none" | "length" | "chunked" | "close";

export interface ResponseHead {
  head: string;
  framing: Framing;
  /** Whether the client connection stays open after this response. */
  keepAlive: boolean;
}

/**
 * The head the client gets for an instance's answer: end-to-end headers, the instance's
 * Content-Length when it sent one, otherwise chunked (or close-delimited for HTTP/1.0).
 */
export function clientResponseHead(
  status: number,
  reason: string,
  headers: string[],
  req: { method: string; versionMinor: number; keepAlive: boolean },
): ResponseHead {
  let head = `HTTP/1.1 ${status} ${reason || STATUS_CODES[status] || "Unknown"}\r\n`;
  let length: string | undefined;
  let drop: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if (hopByHop.find(headers[i]!) === "connection") drop = drop.concat(connectionTokens(headers[i + 1]!));
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const known = hopByHop.find(name);
    if (known !== undefined) {
      if (known === "content-length") length = headers[i + 1];
      continue;
    }
    // X-Forwarded-* are the proxy's to set, towards the instance; none go back to the client.
    if (name.length > 12 && startsWithLowerCase(name, "x-forwarded-")) continue;
    if (drop.length > 0 && drop.includes(name.toLowerCase())) continue;
    head += `${name}: ${headers[i + 1]}\r\n`;
  }
  const bodiless = req.method === "HEAD" || status < 200 || status === 204 || status === 304;
  let framing: Framing;
  if (bodiless) framing = "none";
  else if (length !== undefined) framing = "length";
  else framing = req.versionMinor >= 1 ? "chunked" : "close";
  // 204 and 1xx never carry Content-Length; HEAD and 304 repeat what a GET would have said.
  if (length !== undefined && status !== 204 && status >= 200) head += `content-length: ${length}\r\n`;
  if (framing === "chunked") head += "transfer-encoding: chunked\r\n";
  const keepAlive = req.keepAlive && framing !== "close";
  head += connectionHeader(keepAlive, req.versionMinor);
  return { head: `${head}\r\n`, framing, keepAlive };
}

/** A complete answer the router gives itself (404, 503, maintenance page, 502…); the body is UTF-8. */
export function localResponse(
  status: number,
  headers: Record<string, string>,
  body: string,
  req: { method: string; versionMinor: number; keepAlive: boolean },
): Buffer {
  const bytes = Buffer.from(body, "utf8");
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += `content-length: ${bytes.length}\r\n`;
  head += connectionHeader(req.keepAlive, req.versionMinor);
  const headBytes = Buffer.from(`${head}\r\n`, "latin1");
  return req.method === "HEAD" ? headBytes : Buffer.concat([headBytes, bytes]);
}

function connectionHeader(keepAlive: boolean, versionMinor: number): string {
  if (!keepAlive) return "connection: close\r\n";
  return versionMinor === 0 ? "connection: keep-alive\r\n" : "";
}

/** One chunk of a chunked body, as the bytes before and after its data. */
export function chunkPrefix(length: number): string {
  return `${length.toString(16)}\r\n`;
}
export const chunkSuffix = "\r\n";
export const lastChunk = "0\r\n\r\n";
