import type { ServerResponse } from "node:http";
import type { FlagService, FlagSnapshot } from "./flag-service.ts";

export interface FlagStreamOptions {
  /** A `: keepalive` comment this often (default 15 s); stalled clients are looked for as often. */
  keepaliveMs?: number;
  /** A client that has taken nothing of what was sent for this long is dropped (default 30 s). */
  stallMs?: number;
  /**
   * The text of the event telling a client about a snapshot (`first`: the one sent on
   * connect, which also sets the reconnect delay). By default a `flags` event carrying the
   * whole flag set; OFREP's stream sends a refetch notification instead.
   */
  event?: (snapshot: FlagSnapshot, first: boolean) => string;
}

interface Client {
  environment: string;
  response: ServerResponse;
  /** The newest snapshot not yet written because the previous event is still being sent. */
  waiting: FlagSnapshot | undefined;
  /** Since when the client has had unsent bytes; undefined while it keeps up. */
  stalledSince: number | undefined;
}

/**
 * Server-sent events of flag set changes (GET /api/v1/sdk/flags/stream, and OFREP's change
 * notifications). Every client of an environment gets each new revision as an event,
 * written without waiting for any client. Each event stands for the whole revision, so a
 * client still taking the previous one gets only the newest once it has (at most one event
 * is buffered per client, however fast flags change), and a client that takes nothing for
 * `stallMs` is dropped; it reconnects. `close` ends every stream, so shutting down is prompt.
 */
export class FlagStreams {
  readonly #flags: FlagService;
  readonly #stallMs: number;
  readonly #event: (snapshot: FlagSnapshot, first: boolean) => string;
  readonly #clients = new Set<Client>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #keepalive: NodeJS.Timeout;
  readonly #stallCheck: NodeJS.Timeout;
  #closed = false;

  constructor(flags: FlagService, options: FlagStreamOptions = {}) {
    this.#flags = flags;
    this.#stallMs = options.stallMs ?? 30_000;
    this.#event = options.event ?? flagsEvent;
    for (const e of flags.environments) {
      this.#unsubscribe.push(flags.subscribe(e.name, (snapshot) => this.#broadcast(snapshot)));
    }
    this.#keepalive = setInterval(() => {
      for (const client of this.#clients) this.#send(client, ": keepalive\n\n");
    }, options.keepaliveMs ?? 15_000);
    this.#stallCheck = setInterval(() => this.#dropStalled(), Math.min(this.#stallMs, 1000));
    this.#stallCheck.unref();
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
    const client: Client = { environment, response, waiting: undefined, stalledSince: undefined };
    this.#clients.add(client);
    response.on("close", () => this.#clients.delete(client));
    response.on("drain", () => {
      client.stalledSince = undefined;
      const next = client.waiting;
      client.waiting = undefined;
      if (next) this.#send(client, this.#event(next, false));
    });
    response.socket?.setNoDelay(true);
    if (lastEventId?.trim() === String(snapshot.revision)) this.#send(client, "retry: 1000\n\n");
    else this.#send(client, this.#event(snapshot, true));
  }

  #broadcast(snapshot: FlagSnapshot): void {
    const text = this.#event(snapshot, false);
    for (const client of this.#clients) {
      if (client.environment !== snapshot.environment) continue;
      if (client.stalledSince !== undefined) client.waiting = snapshot;
      else this.#send(client, text);
    }
  }

  #send(client: Client, text: string): void {
    const { response } = client;
    if (response.destroyed) {
      this.#clients.delete(client);
      return;
    }
    // A keepalive behind unsent bytes would only add to them.
    if (client.stalledSince !== undefined) return;
    if (!response.write(text)) client.stalledSince = Date.now();
  }

  #dropStalled(): void {
    const now = Date.now();
    for (const client of this.#clients) {
      // Bytes still unsent (a keepalive included) mean the client has stopped taking them.
      if (client.stalledSince === undefined && client.response.writableLength > 0) client.stalledSince = now;
      if (client.stalledSince !== undefined && now - client.stalledSince >= this.#stallMs) {
        this.#clients.delete(client);
        client.response.destroy();
      }
    }
  }

  /** Ends every stream and stops listening for changes. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#keepalive);
    clearInterval(this.#stallCheck);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    // Cut rather than end: a client that is not reading, or a half-closed socket, would
    // otherwise hold the server's shutdown up. Clients reconnect either way.
    for (const { response } of this.#clients) response.destroy();
    this.#clients.clear();
  }
}

/** The SDK sync stream's event: the whole flag set of the revision. */
function flagsEvent(snapshot: FlagSnapshot, first: boolean): string {
  return `event: flags\nid: ${snapshot.revision}\n${first ? "retry: 1000\n" : ""}data: ${snapshot.body}\n\n`;
}
