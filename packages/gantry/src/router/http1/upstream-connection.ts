import { connect, type Socket } from "node:net";
import {
  type HttpParser,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  newParser,
} from "./llhttp.ts";
import { SocketIo } from "./socket-io.ts";

/** Where an upstream connection reports the answer to the request it carries. */
export interface ResponseSink {
  /** Batches the writes one read from the instance causes into one write to the client. */
  cork(): void;
  uncork(): void;
  onResponseHead(status: number, reason: string, headers: string[], keepAlive: boolean): void;
  onResponseBody(chunk: Buffer): void;
  onResponseEnd(): void;
  /** `reached`: the instance may have seen the request (false only for a failed connect). */
  onUpstreamError(code: string, reached: boolean): void;
}

export interface UpstreamTimeouts {
  connectMs: number;
  /** From the request sent to the response head, and then between reads of the body. */
  responseMs: number;
}

/**
 * One keep-alive connection to an instance, carrying one request at a time. Its deadline is
 * checked by its pool's sweep rather than by a timer per request (timers cost more than the
 * proxying of a small request).
 */
export class UpstreamConnection {
  readonly socket: Socket;
  readonly #parser: HttpParser;
  readonly #timeouts: UpstreamTimeouts;
  readonly #io: SocketIo;
  #sink: ResponseSink | undefined;
  #headRequest = false;
  #headers: string[] = [];
  #interim = false;
  #keepAlive = false;
  #responded = false;
  connected = false;
  /** Served a request before: a reset on it may be the instance closing an idle socket. */
  reused = false;
  /** Set when the connection must not carry another request. */
  done = false;
  deadline: number;
  idleSince = 0;
  onConnect: (() => void) | undefined;
  /** Called once when the socket closes, to take it out of its pool. */
  onClose: (() => void) | undefined;

  constructor(host: string, port: number, timeouts: UpstreamTimeouts, maxHeaderSize: number) {
    this.#timeouts = timeouts;
    this.deadline = performance.now() + timeouts.connectMs;
    this.socket = connect({ host, port, noDelay: true });
    this.#parser = newParser("response", maxHeaderSize);
    this.#bindParser();
    this.socket.on("connect", () => {
      this.connected = true;
      this.deadline = performance.now() + this.#timeouts.responseMs;
      this.onConnect?.();
    });
    this.#io = new SocketIo(this.socket, (data) => this.#read(data));
    this.socket.on("end", () => this.#ended());
    this.socket.on("error", (error: NodeJS.ErrnoException) => this.#fail(error.code ?? "ECONNRESET"));
    this.socket.on("close", () => {
      this.done = true;
      this.#fail("ECONNRESET");
      this.#parser.close();
      this.onClose?.();
    });
  }

  /** Starts a request: writes its head now (the socket queues it while connecting). */
  send(head: string, method: string, sink: ResponseSink): void {
    this.#sink = sink;
    this.#headRequest = method === "HEAD";
    this.#responded = false;
    this.#interim = false;
    this.deadline =
      performance.now() + (this.connected ? this.#timeouts.responseMs : this.#timeouts.connectMs);
    this.#io.write(head);
  }

  /** Stops reading the response (the client is not keeping up), until resumeReading. */
  pauseReading(): void {
    this.#io.pause();
  }

  resumeReading(): void {
    this.#io.resume();
  }

  /** Writes request body bytes; false asks the caller to wait for 'drain'. */
  write(data: string | Buffer): boolean {
    return this.#io.write(data);
  }

  /** Calls `then` once the instance has taken what was written (after a write returned false). */
  onceDrained(then: () => void): void {
    this.#io.onceDrained(then);
  }

  /** The exchange is over (or gave up): the connection goes idle or away. */
  detach(): void {
    this.#sink = undefined;
    this.reused = true;
    this.idleSince = performance.now();
    if (!this.#keepAlive || !this.#responded) this.done = true;
  }

  destroy(): void {
    this.done = true;
    this.#sink = undefined;
    this.socket.destroy();
  }

  /** Called by the pool's sweep; ends a connect or a response that takes too long. */
  expire(now: number): void {
    if (this.#sink === undefined || now < this.deadline) return;
    this.#fail(this.connected ? "UPSTREAM_TIMEOUT" : "ECONNTIMEOUT");
    this.socket.destroy();
  }

  #bindParser(): void {
    const p = this.#parser;
    p[kOnHeaders] = (headers) => {
      this.#headers = this.#headers.concat(headers);
    };
    p[kOnHeadersComplete] = (_maj, _min, headers, _m, _u, status, reason, _up, keepAlive) => {
      const all = headers ?? this.#headers;
      this.#headers = [];
      this.#keepAlive = keepAlive;
      // 1xx interim answers (103 Early Hints, a stray 100) are not passed on, as nginx does.
      this.#interim = status < 200 && status !== 101;
      if (!this.#interim) {
        this.#responded = true;
        this.#sink?.onResponseHead(status, reason, all, keepAlive);
      }
      return this.#headRequest ? 1 : 0;
    };
    p[kOnBody] = (chunk) => {
      this.#sink?.onResponseBody(chunk);
    };
    p[kOnMessageComplete] = () => {
      if (this.#interim) return;
      const sink = this.#sink;
      this.#sink = undefined;
      sink?.onResponseEnd();
    };
  }

  #read(data: Buffer): void {
    const sink = this.#sink;
    if (!sink) {
      // Bytes nobody asked for: the connection is out of step; never reuse it.
      this.destroy();
      return;
    }
    this.deadline = performance.now() + this.#timeouts.responseMs;
    sink.cork();
    const result = this.#parser.execute(data);
    sink.uncork();
    if (typeof result !== "number") {
      this.#fail(
        result.code === "HPE_HEADER_OVERFLOW" ? "UPSTREAM_HEADER_OVERFLOW" : "UPSTREAM_BAD_RESPONSE",
      );
      this.socket.destroy();
    }
  }

  /** The instance closed its side: a close-delimited body ends here, anything else failed. */
  #ended(): void {
    this.done = true;
    if (this.#sink) {
      const sink = this.#sink;
      sink.cork();
      this.#parser.finish();
      sink.uncork();
    }
    this.#fail("ECONNRESET");
    this.socket.end();
  }

  #fail(code: string): void {
    const sink = this.#sink;
    if (!sink) return;
    this.#sink = undefined;
    this.done = true;
    sink.onUpstreamError(code, this.connected);
  }
}
