import { createServer, type Server } from "node:net";
import { ClientConnection, type ClientLimits, type Dispatch } from "./client-connection.ts";

export const defaultClientLimits: ClientLimits = {
  maxHeaderSize: 16 * 1024,
  headersMs: 10_000,
  bodyIdleMs: 60_000,
  keepAliveMs: 5000,
};

/**
 * An HTTP/1.1 server on raw sockets for the proxy: connections, one sweep for every time
 * limit (checked each `sweepMs`, as Node's http server does, instead of a timer per
 * request), and a graceful close that lets requests in flight finish.
 */
export class Http1Server {
  readonly server: Server;
  readonly #connections = new Set<ClientConnection>();
  readonly #sweep: NodeJS.Timeout;
  #closing = false;

  constructor(o: {
    limits: ClientLimits;
    dispatch: Dispatch;
    sweepMs?: number;
    onSweep?: (now: number) => void;
  }) {
    this.server = createServer({ noDelay: true }, (socket) => {
      if (this.#closing) {
        socket.destroy();
        return;
      }
      const conn = new ClientConnection(socket, o.limits, o.dispatch);
      this.#connections.add(conn);
      conn.onClose = () => this.#connections.delete(conn);
    });
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const conn of this.#connections) conn.expire(now);
      o.onSweep?.(now);
    }, o.sweepMs ?? 500);
    this.#sweep.unref();
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ port, host, backlog: 4096 }, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting, closes idle connections, answers requests in flight with
   * Connection: close, and resolves when every connection is gone or after `graceMs`.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.server.close();
    for (const conn of this.#connections) {
      conn.closing = true;
      if (!conn.busy) conn.socket.destroy();
    }
    const until = performance.now() + graceMs;
    while (this.#connections.size > 0 && performance.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    for (const conn of this.#connections) conn.socket.destroy();
    clearInterval(this.#sweep);
  }
}
