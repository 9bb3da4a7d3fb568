import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, connect to last byte. */
  timeoutMs: number;
  /** False for background work, so it never keeps the application's process alive. */
  keepProcessAlive: boolean;
  /** Bodies longer than this are cut off with an error. Default 64 MiB. */
  maxBytes?: number;
}

export interface StreamOptions {
  headers?: Record<string, string>;
  /** Until the response head arrives. */
  headTimeoutMs: number;
  /** A stream that sends nothing (not even a keepalive) for this long is dropped. */
  idleTimeoutMs: number;
  keepProcessAlive: boolean;
}

/**
 * HTTP to one Gantry server with one bearer token, over a keep-alive agent of its own so
 * `close` can cut every connection: nothing the provider opened outlives it. The token is
 * sent as a header and never appears in an error message.
 */
export class HttpChannel {
  readonly #base: URL;
  readonly #authorization: string;
  readonly #agent: HttpAgent;
  readonly #send: typeof httpRequest;
  readonly #open = new Set<ClientRequest>();
  #closed = false;

  constructor(baseUrl: string, token: string) {
    this.#base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
    this.#authorization = `Bearer ${token}`;
    const https = this.#base.protocol === "https:";
    this.#agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 4 })
      : new HttpAgent({ keepAlive: true, maxSockets: 4 });
    this.#send = https ? httpsRequest : httpRequest;
  }

  /** A request whose whole body is read; fails (rejects) on network errors and timeouts only. */
  async request(path: string, options: RequestOptions): Promise<HttpResult> {
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    const { request, head } = this.#start(path, options.method ?? "GET", options);
    const timer = setTimeout(
      () => request.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    if (!options.keepProcessAlive) timer.unref();
    try {
      const response = await head;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
        chunks.push(chunk as Buffer);
      }
      // A connection cut mid-body can end the iteration without an error.
      if (!response.complete) throw new Error("the connection closed before the answer was complete");
      return {
        status: response.statusCode ?? 0,
        headers: response.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
    } finally {
      clearTimeout(timer);
      this.#open.delete(request);
    }
  }

  /**
   * Opens a long-lived response (server-sent events). Resolves with the response once its
   * head arrives; the caller reads it and calls `cancel` to drop it. Idle streams are
   * destroyed with an error after `idleTimeoutMs` without a byte.
   */
  async stream(path: string, options: StreamOptions): Promise<{ response: IncomingMessage; cancel(): void }> {
    const { request, head } = this.#start(path, "GET", options);
    const timer = setTimeout(
      () => request.destroy(new Error(`no answer within ${options.headTimeoutMs} ms`)),
      options.headTimeoutMs,
    );
    if (!options.keepProcessAlive) timer.unref();
    try {
      const response = await head;
      request.setTimeout(options.idleTimeoutMs, () =>
        request.destroy(new Error(`the stream sent nothing for ${options.idleTimeoutMs} ms`)),
      );
      response.once("close", () => this.#open.delete(request));
      return { response, cancel: () => request.destroy() };
    } catch (error) {
      this.#open.delete(request);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cuts every open request and connection; later requests fail at once. */
  close(): void {
    this.#closed = true;
    for (const request of this.#open) request.destroy();
    this.#open.clear();
    this.#agent.destroy();
  }

  #start(
    path: string,
    method: string,
    options: { headers?: Record<string, string>; body?: string; keepProcessAlive: boolean },
  ): { request: ClientRequest; head: Promise<IncomingMessage> } {
    if (this.#closed) throw new Error("the provider is closed");
    const url = new URL(path.replace(/^\//, ""), this.#base);
    const request = this.#send(url, {
      method,
      agent: this.#agent,
      headers: {
        authorization: this.#authorization,
        "user-agent": "gantry-sdk-node",
        ...(options.body !== undefined && {
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(options.body)),
        }),
        ...options.headers,
      },
    });
    this.#open.add(request);
    if (!options.keepProcessAlive) request.on("socket", (socket) => socket.unref());
    // Errors reach the caller through `head` or the response; a late one must not go unhandled.
    request.on("error", () => {});
    const head = new Promise<IncomingMessage>((resolve, reject) => {
      request.once("response", resolve);
      request.once("error", (error) => reject(describe(error, url)));
      request.once("close", () => reject(new Error(`request to ${url.origin}${url.pathname} was cut`)));
    });
    request.end(options.body);
    return { request, head };
  }
}

/** A network error with where it went (origin and path, never the token). */
function describe(error: Error, url: URL): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const what = code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  return new Error(`${url.origin}${url.pathname}: ${what || code || "connection failed"}`, { cause: error });
}
