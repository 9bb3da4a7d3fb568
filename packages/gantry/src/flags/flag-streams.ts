import type { ServerResponse } from "node:http";
import type { FlagService, FlagSnapshot } from "./flag-service.ts";

export interface FlagStreamOptions {
  /** A `: keepalive` comment this often (default 15 s). */
  keepaliveMs?: number;
  /**
   * A client with more than this many bytes still unsent when the next event comes is
   * too slow: it is dropped (and reconnects), so one slow reader never holds memory or
   * the others back. Default 1 MiB.
   */
  maxPendingBytes?: number;
}

interface Client {
  environment: string;
  response: ServerResponse;
}

/**
 * Server-sent events of flag set changes (GET /api/v1/sdk/flags/stream): every client of an
 * environment gets each new revision as one `flags` event, written without waiting for any
 * client; slow ones are dropped. `close` ends every stream, so shutting down is prompt.
 */
export class FlagStreams {
  readonly #flags: FlagService;
  readonly #maxPending: number;
  readonly #clients = new Set<Client>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #keepalive: NodeJS.Timeout;
  #closed = false;

  constructor(flags: FlagService, options: FlagStreamOptions = {}) {
    this.#flags = flags;
    this.#maxPending = options.maxPendingBytes ?? 1024 * 1024;
    for (const e of flags.environments) {
      this.#unsubscribe.push(flags.subscribe(e.name, (snapshot) => this.#broadcast(snapshot)));
    }
    this.#keepalive = setInterval(() => {
      for (const client of this.#clients) this.#send(client, ": keepalive\n\n");
    }, options.keepaliveMs ?? 15_000);
    this.#keepalive.unref();
  }

  get size(): number {
    return this.#clients.size;
  }

  /**
   * Starts a stream on a raw response: the current flag set as the first event, unless
   * the client says (Last-Event-ID) it has this revision already.
   */
  open(environment: string, response: ServerResponse, lastEventId: string | undefined): void {
    const snapshot = this.#flags.snapshot(environment);
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
    if (this.#closed) {
      response.end();
      return;
    }
    const client: Client = { environment, response };
    this.#clients.add(client);
    response.on("close", () => this.#clients.delete(client));
    response.socket?.setNoDelay(true);
    if (lastEventId?.trim() === String(snapshot.revision)) this.#send(client, "retry: 1000\n\n");
    else this.#send(client, event(snapshot, true));
  }

  #broadcast(snapshot: FlagSnapshot): void {
    const text = event(snapshot, false);
    for (const client of this.#clients)
      if (client.environment === snapshot.environment) this.#send(client, text);
  }

  #send(client: Client, text: string): void {
    const { response } = client;
    if (response.destroyed) {
      this.#clients.delete(client);
      return;
    }
    if (response.writableLength > this.#maxPending) {
      this.#clients.delete(client);
      response.destroy();
      return;
    }
    response.write(text);
  }

  /** Ends every stream and stops listening for changes. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#keepalive);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    // Cut rather than end: a client that is not reading, or a half-closed socket, would
    // otherwise hold the server's shutdown up. Clients reconnect either way.
    for (const { response } of this.#clients) response.destroy();
    this.#clients.clear();
  }
}

function event(snapshot: FlagSnapshot, first: boolean): string {
  return `event: flags\nid: ${snapshot.revision}\n${first ? "retry: 1000\n" : ""}data: ${snapshot.body}\n\n`;
}
