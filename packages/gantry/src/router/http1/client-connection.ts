import type { Socket } from "node:net";
import { localResponse, type RequestHead, readRequestHead } from "./heads.ts";
import {
  type HttpParser,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  methodNames,
  newParser,
} from "./llhttp.ts";
import { SocketIo } from "./socket-io.ts";

/** What the proxy does with one request; the connection feeds it the request body. */
export interface RequestHandler {
  body(chunk: Buffer): void;
  end(): void;
  /** The client went away before the response was complete. */
  abort(): void;
}

export interface ClientLimits {
  maxHeaderSize: number;
  /** From a request's first byte to the end of its head: what a slowloris client runs into. */
  headersMs: number;
  /** Longest wait between two reads of a request body. */
  bodyIdleMs: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveMs: number;
}

export type Dispatch = (conn: ClientConnection, head: RequestHead) => RequestHandler;

/** Body pieces up to this size join the batched write; larger ones are written as they are. */
const batchBytes = 16 * 1024;

type State = "idle" | "head" | "body" | "waiting";

interface Queued {
  head: RequestHead;
  chunks: Buffer[];
  ended: boolean;
}

/**
 * One client connection: parses requests with llhttp, hands each to the proxy in order
 * (a pipelined request waits, with the socket paused, until the one before is answered),
 * and enforces the time limits through `expire`, called by the server's sweep.
 */
export class ClientConnection {
  readonly socket: Socket;
  readonly remoteAddress: string;
  readonly #parser: HttpParser;
  readonly #limits: ClientLimits;
  readonly #dispatch: Dispatch;
  readonly #io: SocketIo;
  readonly #queue: Queued[] = [];
  #headers: string[] = [];
  #url = "";
  #state: State = "idle";
  #deadline: number;
  #current: RequestHandler | undefined;
  #currentEnded = false;
  #responding = false;
  #seq = 0;
  #batch: string | undefined;
  /** The server is shutting down: answer what is in flight with Connection: close. */
  closing = false;
  onClose: (() => void) | undefined;

  constructor(socket: Socket, limits: ClientLimits, dispatch: Dispatch) {
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.#limits = limits;
    this.#dispatch = dispatch;
    this.#deadline = performance.now() + limits.keepAliveMs;
    this.#parser = newParser("request", limits.maxHeaderSize);
    this.#bindParser();
    socket.setNoDelay(true);
    this.#io = new SocketIo(socket, (data) => this.#read(data));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.#closed());
  }

  /** Stops reading requests (back-pressure), until resumeReading. */
  pauseReading(): void {
    this.#io.pause();
  }

  resumeReading(): void {
    this.#io.resume();
  }

  /** Calls `then` once the client has taken what was written (after a write returned false). */
  onceDrained(then: () => void): void {
    this.#io.onceDrained(then);
  }

  get busy(): boolean {
    return this.#responding || this.#state !== "idle";
  }

  /** Whether the request being answered has been read to its end. */
  get requestDone(): boolean {
    return this.#currentEnded;
  }

  /**
   * Collects what one read from an instance produces (head, small body pieces) into one
   * string, written once by `uncork`: one write syscall per small response, no writev.
   */
  cork(): void {
    this.#batch = "";
  }

  /** Writes what was collected; false when the client is not keeping up. */
  uncork(): boolean {
    const batch = this.#batch;
    this.#batch = undefined;
    return batch ? this.#io.write(batch) : !this.#io.needDrain;
  }

  /** Strings are heads and framing: latin1, as llhttp decoded them, so bytes pass unchanged. */
  write(data: string | Buffer): boolean {
    if (this.#batch !== undefined) {
      if (typeof data === "string") {
        this.#batch += data;
        return true;
      }
      if (data.length <= batchBytes) {
        this.#batch += data.toString("latin1");
        return true;
      }
      if (this.#batch) this.#io.write(this.#batch);
      this.#batch = "";
    }
    return this.#io.write(data);
  }

  /** The response to the current request is complete. */
  finish(keepAlive: boolean): void {
    if (this.#batch) {
      this.#io.write(this.#batch);
      this.#batch = "";
    }
    this.#responding = false;
    this.#current = undefined;
    if (!keepAlive || this.closing) {
      this.socket.end();
      return;
    }
    if (this.#state === "waiting") this.#state = "idle";
    this.#deadline = performance.now() + this.#limits.keepAliveMs;
    this.#next();
  }

  /** Answers the current request from the router itself (404, 503, maintenance…). */
  answer(status: number, headers: Record<string, string>, body: string, head: RequestHead): void {
    // A body the client is still sending would be read as the next request: close instead.
    const keepAlive = head.keepAlive && this.requestDone && !this.closing;
    this.write(localResponse(status, headers, body, { ...head, keepAlive }));
    this.finish(keepAlive);
  }

  expire(now: number): void {
    if (now < this.#deadline) return;
    if (this.#state === "head" && !this.#responding) {
      // A slowloris client: tell it why, then close even if it keeps writing.
      this.socket.end("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      setTimeout(() => this.socket.destroy(), 250).unref();
    } else if (this.#state === "body" || (this.#state === "idle" && !this.#responding)) {
      // A stalled upload, or an idle keep-alive connection.
      this.socket.destroy();
    }
  }

  #bindParser(): void {
    const p = this.#parser;
    p[kOnHeaders] = (headers, url) => {
      this.#headers = this.#headers.concat(headers);
      this.#url += url;
    };
    p[kOnHeadersComplete] = (_maj, minor, headers, method, url, _s, _r, upgrade, keepAlive) => {
      if (!this.socket.writable) return 0;
      const all = headers ?? this.#headers;
      const fullUrl = url ?? this.#url;
      this.#headers = [];
      this.#url = "";
      const head = readRequestHead(methodNames[method] ?? "GET", fullUrl, minor, all, keepAlive);
      // Upgrades (WebSocket) are not proxied yet: answer and close rather than mis-frame.
      if (upgrade) head.keepAlive = false;
      this.#state = "body";
      this.#deadline = performance.now() + this.#limits.bodyIdleMs;
      if (this.#responding || this.#queue.length > 0) {
        this.#queue.push({ head, chunks: [], ended: false });
        this.#io.pause();
      } else this.#start(head);
      return 0;
    };
    p[kOnBody] = (chunk) => {
      this.#deadline = performance.now() + this.#limits.bodyIdleMs;
      const queued = this.#queue.at(-1);
      if (queued) queued.chunks.push(Buffer.from(chunk));
      else this.#current?.body(chunk);
    };
    p[kOnMessageComplete] = () => {
      this.#state = "waiting";
      const queued = this.#queue.at(-1);
      if (queued) queued.ended = true;
      else {
        this.#currentEnded = true;
        this.#current?.end();
      }
    };
  }

  #start(head: RequestHead, ended = false): void {
    this.#responding = true;
    this.#currentEnded = ended;
    const seq = ++this.#seq;
    const handler = this.#dispatch(this, head);
    // A request answered on the spot (404, 503…) has finished, and may have started the
    // next pipelined one, by the time dispatch returns: its handler is not current then.
    if (seq === this.#seq && this.#responding) this.#current = handler;
  }

  /** Starts the next pipelined request, if one is waiting. */
  #next(): void {
    const queued = this.#queue.shift();
    if (!queued) return;
    this.#start(queued.head, queued.ended);
    for (const chunk of queued.chunks) this.#current?.body(chunk);
    if (queued.ended) this.#current?.end();
    if (this.#queue.length === 0) this.#io.resume();
  }

  #read(data: Buffer): void {
    if (this.#state === "idle") {
      this.#state = "head";
      this.#deadline = performance.now() + this.#limits.headersMs;
    }
    const result = this.#parser.execute(data);
    if (typeof result === "number") return;
    this.#io.pause();
    if (this.#responding) {
      this.socket.destroy();
      return;
    }
    const tooBig = result.code === "HPE_HEADER_OVERFLOW";
    const status = tooBig ? "431 Request Header Fields Too Large" : "400 Bad Request";
    this.socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  }

  #closed(): void {
    this.#parser.close();
    const current = this.#current;
    this.#current = undefined;
    if (this.#responding) current?.abort();
    this.#queue.length = 0;
    this.onClose?.();
  }
}
