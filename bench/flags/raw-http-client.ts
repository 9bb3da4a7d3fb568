import { connect, type Socket } from "node:net";

/**
 * A minimal HTTP/1.1 client for load generation on a shared machine: keep-alive sockets, one
 * request in flight per socket, each request written as one prepared string, answers framed
 * by Content-Length (what Gantry's API sends). It costs a fraction of a general client's CPU,
 * which would otherwise compete with the server it measures. Not for anything but benches.
 */
export class RawHttpClient {
  readonly #host: string;
  readonly #port: number;
  readonly #maxConnections: number;
  readonly #idle: Connection[] = [];
  readonly #waiting: { request: string; resolve: (a: Answer) => void; reject: (e: Error) => void }[] = [];
  #open = 0;

  constructor(url: string, maxConnections: number) {
    const parsed = new URL(url);
    this.#host = parsed.hostname;
    this.#port = Number(parsed.port);
    this.#maxConnections = maxConnections;
  }

  /** Sends a whole request (head and body, already serialised); resolves with the answer. */
  send(request: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let connection = this.#idle.pop();
      // A connection the server closed while idle is gone: take the next one.
      while (connection && !connection.alive) connection = this.#idle.pop();
      if (connection) connection.send(request, resolve, reject);
      else if (this.#open < this.#maxConnections) {
        this.#open += 1;
        new Connection(
          this.#host,
          this.#port,
          (c) => this.#release(c),
          () => (this.#open -= 1),
        ).send(request, resolve, reject);
      } else this.#waiting.push({ request, resolve, reject });
    });
  }

  #release(connection: Connection): void {
    const next = this.#waiting.shift();
    if (next) connection.send(next.request, next.resolve, next.reject);
    else this.#idle.push(connection);
  }

  close(): void {
    for (const connection of this.#idle) connection.close();
    this.#idle.length = 0;
  }
}

export interface Answer {
  status: number;
  body: Buffer;
}

const HEAD_END = Buffer.from("\r\n\r\n");

class Connection {
  readonly #socket: Socket;
  readonly #onIdle: (connection: Connection) => void;
  #buffered: Buffer = Buffer.alloc(0);
  #pending: { resolve: (a: Answer) => void; reject: (e: Error) => void } | undefined;
  alive = true;

  constructor(host: string, port: number, onIdle: (connection: Connection) => void, onClose: () => void) {
    this.#onIdle = onIdle;
    this.#socket = connect({ host, port, noDelay: true });
    this.#socket.on("data", (chunk) => this.#read(chunk));
    this.#socket.on("error", () => undefined); // "close" follows, and says it
    this.#socket.on("close", () => {
      this.alive = false;
      onClose();
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.reject(new Error("connection closed"));
    });
  }

  send(request: string, resolve: (a: Answer) => void, reject: (e: Error) => void): void {
    if (!this.alive) {
      reject(new Error("connection closed"));
      return;
    }
    this.#pending = { resolve, reject };
    this.#socket.write(request);
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const headEnd = this.#buffered.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.#buffered.subarray(0, headEnd).toString("latin1");
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const total = headEnd + 4 + length;
    if (this.#buffered.length < total) return;
    const answer = { status: Number(head.slice(9, 12)), body: this.#buffered.subarray(headEnd + 4, total) };
    this.#buffered = this.#buffered.subarray(total);
    const pending = this.#pending!;
    this.#pending = undefined;
    pending.resolve(answer);
    this.#onIdle(this);
  }
}
