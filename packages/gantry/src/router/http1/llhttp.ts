import { createRequire } from "node:module";

/**
 * Node's own HTTP/1.1 parser (llhttp, in C++), the one `node:http` runs on. `node:http`
 * costs more per request than the proxying itself (IncomingMessage and ServerResponse
 * streams, header objects, per-request allocations), so the router parses with llhttp
 * directly on raw sockets: same strictness as Node (no lenient flags, so conflicting
 * Content-Length/Transfer-Encoding, bad chunk sizes and obs-fold are refused), about 3×
 * the throughput. `_http_common` is the only way to reach it; it has been stable since
 * Node 12, and `loadParser` fails loudly at start-up if it ever moves.
 */
export interface HttpParser {
  initialize(kind: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Returns the bytes consumed, or an Error with `code` (e.g. HPE_HEADER_OVERFLOW). */
  execute(data: Buffer): number | ParserError;
  /** End of input: completes a close-delimited message or returns an error. */
  finish(): number | ParserError | undefined;
  close(): void;
  free(): void;
  remove(): void;
  [kOnHeaders]: (headers: string[], url: string) => void;
  [kOnHeadersComplete]: HeadersCompleteCallback;
  [kOnBody]: (chunk: Buffer) => void;
  [kOnMessageComplete]: () => void;
}

export interface ParserError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

/**
 * Called once per message head. `headers` and `url` are undefined when the head came in
 * more than one piece (then kOnHeaders delivered them). Returning 1 tells the response
 * parser the message has no body (answer to HEAD).
 */
export type HeadersCompleteCallback = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  statusCode: number,
  statusMessage: string,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number | undefined;

interface ParserModule {
  HTTPParser: (new () => HttpParser) & {
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kLenientNone: number;
  };
  methods: string[];
}

function loadParser(): ParserModule {
  const mod = createRequire(import.meta.url)("_http_common") as Partial<ParserModule>;
  const P = mod.HTTPParser;
  if (!P || !Array.isArray(mod.methods) || P.kOnHeadersComplete !== 2 || P.kOnBody !== 3)
    throw new Error("this Node.js does not expose its HTTP parser as the router expects (Node 24 does)");
  return mod as ParserModule;
}

const parserModule = loadParser();
const P = parserModule.HTTPParser;

export const kOnHeaders = 1;
export const kOnHeadersComplete = 2;
export const kOnBody = 3;
export const kOnMessageComplete = 4;

/** Method names by llhttp's method index. */
export const methodNames: readonly string[] = parserModule.methods;

/** A strict parser for requests (from clients) or responses (from instances). */
export function newParser(kind: "request" | "response", maxHeaderSize: number): HttpParser {
  const parser = new P();
  parser.initialize(kind === "request" ? P.REQUEST : P.RESPONSE, {}, maxHeaderSize, P.kLenientNone);
  return parser;
}
