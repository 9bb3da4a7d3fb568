import type { IncomingMessage } from "node:http";
import { backoffDelay } from "./backoff.ts";
import type { HttpChannel } from "./http-channel.ts";
import { SseParser } from "./sse-parser.ts";

const FLAGS_PATH = "api/v1/sdk/flags";
const STREAM_PATH = "api/v1/sdk/flags/stream";

export type SyncChannel = "stream" | "poll";

/** What the sync tells the provider; the provider decides what to adopt and what to emit. */
export interface FlagSyncListener {
  /** A flag set body `{environment, revision, flagSet}` as JSON text. */
  received(text: string, via: SyncChannel): void;
  /** The server answered: the stream is open, or a poll got 200 or 304. */
  contact(via: SyncChannel): void;
  /** A stream attempt or a poll failed (the server is away, or answers something else). */
  lost(reason: string, via: SyncChannel): void;
  /** The server refused the token (401, 403). */
  refused(status: number, message: string): void;
}

export interface FlagSyncOptions {
  channel: HttpChannel;
  listener: FlagSyncListener;
  /** The revision the provider holds, sent as Last-Event-ID and If-None-Match. */
  revision: () => number | undefined;
  stream: boolean;
  pollIntervalMs: number;
  /** The first reconnect wait; undefined follows the server's `retry:` (Gantry: 1 s). */
  reconnectDelayMs: number | undefined;
  maxReconnectDelayMs: number;
  requestTimeoutMs: number;
  streamIdleTimeoutMs: number;
}

/**
 * Keeps a flag set in step with Gantry. It holds a server-sent events stream open and
 * reconnects with exponential backoff and jitter when it drops; while there is no stream
 * (Gantry away, or a proxy that will not carry one) it polls GET /api/v1/sdk/flags with
 * If-None-Match, so it still follows changes, at the poll interval. Nothing here keeps the
 * application's process alive: sockets and timers are unref'd.
 */
export class FlagSync {
  readonly #o: FlagSyncOptions;
  #closed = false;
  #streaming = false;
  #cancelStream: (() => void) | undefined;
  #attempt = 0;
  #serverRetryMs = 1000;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;
  /** Counts bodies received, so a poll answered after a newer stream event is not applied. */
  #received = 0;

  constructor(options: FlagSyncOptions) {
    this.#o = options;
  }

  /** Whether a stream is open right now. */
  get streaming(): boolean {
    return this.#streaming;
  }

  start(): void {
    if (this.#o.stream) void this.#connect();
    else void this.#poll();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#pollTimer);
    this.#cancelStream?.();
  }

  async #connect(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (this.#closed) return;
    const revision = this.#o.revision();
    let opened: { response: IncomingMessage; cancel(): void };
    try {
      opened = await this.#o.channel.stream(STREAM_PATH, {
        headers: {
          accept: "text/event-stream",
          ...(revision !== undefined && { "last-event-id": String(revision) }),
        },
        headTimeoutMs: this.#o.requestTimeoutMs,
        idleTimeoutMs: this.#o.streamIdleTimeoutMs,
        keepProcessAlive: false,
      });
    } catch (error) {
      this.#streamDown(`stream: ${(error as Error).message}`);
      return;
    }
    const { response, cancel } = opened;
    const status = response.statusCode ?? 0;
    const type = String(response.headers["content-type"] ?? "");
    if (this.#closed || status !== 200 || !type.startsWith("text/event-stream")) {
      const body = await shortBody(response);
      cancel();
      if (this.#closed) return;
      if (status === 401 || status === 403) this.#o.listener.refused(status, body);
      this.#streamDown(
        status === 200
          ? `stream: answered ${type || "no content type"}, not text/event-stream`
          : `stream: answered ${status}${body ? ` ${body}` : ""}`,
      );
      return;
    }
    this.#read(response, cancel);
  }

  #read(response: IncomingMessage, cancel: () => void): void {
    this.#streaming = true;
    this.#cancelStream = cancel;
    this.#attempt = 0;
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#o.listener.contact("stream");
    const parser = new SseParser({
      onEvent: (event) => {
        if (event.event !== "flags") return;
        this.#received++;
        this.#o.listener.received(event.data, "stream");
      },
      onRetry: (ms) => {
        this.#serverRetryMs = ms;
      },
    });
    let why = "the stream ended";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      if (!parser.feed(chunk)) {
        why = "the stream sent a line longer than 64 MiB";
        cancel();
      }
    });
    response.on("error", (error) => {
      why = `the stream failed: ${error.message}`;
    });
    response.on("close", () => {
      this.#streaming = false;
      this.#cancelStream = undefined;
      if (!this.#closed) this.#streamDown(why);
    });
  }

  /** The stream is not open: tell the provider, poll now, and try the stream again later. */
  #streamDown(reason: string): void {
    if (this.#closed) return;
    this.#o.listener.lost(reason, "stream");
    const base = this.#o.reconnectDelayMs ?? this.#serverRetryMs;
    const delay = backoffDelay(this.#attempt++, base, this.#o.maxReconnectDelayMs);
    this.#reconnectTimer = setTimeout(() => void this.#connect(), delay);
    this.#reconnectTimer.unref();
    if (!this.#polling && this.#pollTimer === undefined) void this.#poll();
  }

  async #poll(): Promise<void> {
    this.#pollTimer = undefined;
    if (this.#closed || this.#streaming) return;
    this.#polling = true;
    const receivedBefore = this.#received;
    const revision = this.#o.revision();
    try {
      const result = await this.#o.channel.request(FLAGS_PATH, {
        headers: revision !== undefined ? { "if-none-match": `"${revision}"` } : {},
        timeoutMs: this.#o.requestTimeoutMs,
        keepProcessAlive: false,
      });
      if (this.#closed) return;
      if (result.status === 200) {
        this.#o.listener.contact("poll");
        // A stream event that came while this poll was out is newer than its answer.
        if (this.#received === receivedBefore) {
          this.#received++;
          this.#o.listener.received(result.body, "poll");
        }
      } else if (result.status === 304) {
        this.#o.listener.contact("poll");
      } else {
        const body = serverMessage(result.body);
        if (result.status === 401 || result.status === 403) this.#o.listener.refused(result.status, body);
        this.#o.listener.lost(`poll: answered ${result.status}${body ? ` ${body}` : ""}`, "poll");
      }
    } catch (error) {
      if (!this.#closed) this.#o.listener.lost(`poll: ${(error as Error).message}`, "poll");
    } finally {
      this.#polling = false;
    }
    if (this.#closed || this.#streaming) return;
    this.#pollTimer = setTimeout(() => void this.#poll(), this.#o.pollIntervalMs);
    this.#pollTimer.unref();
  }
}

/** What an error answer says: Gantry's `error.message`, else the start of the body. */
function serverMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not Gantry's JSON (a proxy's page): show the start of it.
  }
  return body.slice(0, 300).trim();
}

/** The start of an error answer, to say what the server said; never waits long. */
async function shortBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      clearTimeout(timer);
      resolve(serverMessage(text));
    };
    const timer = setTimeout(done, 1000);
    timer.unref();
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      text += chunk;
      if (text.length >= 4096) done();
    });
    response.on("end", done);
    response.on("close", done);
    response.on("error", done);
  });
}
