import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../audit/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { createFlag, setEnvironment } from "./flag-edits.ts";
import { FlagService } from "./flag-service.ts";
import { FlagStore } from "./flag-store.ts";
import { FlagStreams } from "./flag-streams.ts";

const environments = [{ name: "production", protected: false }];
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(stallMs: number) {
  const store: Store = await openSqliteStore(join(mkdtempSync(join(tmpdir(), "flag-streams-")), "gantry.db"));
  const flags = await FlagService.open({
    store: new FlagStore(store.db),
    audit: new AuditLog(store.db),
    environments,
    now: () => new Date(),
    log: pino({ level: "silent" }),
  });
  const streams = new FlagStreams(flags, { stallMs, keepaliveMs: 100 });
  const server: Server = createServer((_req, res) => streams.open("production", res, undefined));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(async () => {
    streams.close();
    await new Promise((r) => server.close(r));
    await store.close();
  });
  const port = (server.address() as { port: number }).port;
  return { flags, streams, port };
}

/** A raw client: counts the `flags` events it has read and keeps the last id, or reads nothing. */
function client(port: number, read: boolean) {
  const socket = connect(port, "127.0.0.1");
  socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const state = { events: 0, lastId: 0, closed: false, text: "" };
  if (read)
    socket.on("data", (d) => {
      state.text += d.toString("latin1");
      for (const m of state.text.matchAll(/event: flags\nid: (\d+)\n/g)) {
        state.events += 1;
        state.lastId = Number(m[1]);
      }
      state.text = state.text.slice(-64);
    });
  else socket.pause();
  socket.on("close", () => (state.closed = true));
  socket.on("error", () => undefined);
  cleanup.push(async () => void socket.destroy());
  return state;
}

const waitFor = async (check: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return check();
};

describe("flag streams", () => {
  it("drop a client that stops reading, while one that lags gets the newest flag set", async () => {
    const { flags, streams, port } = await setup(500);
    // A big flag makes each event about 200 kB, far more than a socket takes at once.
    const big = { type: "object", variants: { v: { blob: "x".repeat(200_000) } }, defaultVariant: "v" };
    await flags.change({ actor: "t", role: "admin" }, (set) => createFlag(set, "big", big, environments));
    const reader = client(port, true);
    const stuck = client(port, false);
    expect(await waitFor(() => streams.size === 2 && reader.events === 1)).toBe(true);
    // Until the stuck client's socket buffers are full (a few MB) and it has stalled for 500 ms.
    for (let i = 0; i < 400 && streams.size === 2; i++) {
      await flags.change({ actor: "t", role: "admin" }, (set) =>
        setEnvironment(set, "big", "production", { enabled: i % 2 === 0 }),
      );
      // Changes come in over HTTP: sockets get their turn in between.
      await new Promise((r) => setTimeout(r, 5));
    }
    const newest = flags.snapshot("production").revision;
    expect(await waitFor(() => reader.lastId === newest), `reader at ${reader.lastId} of ${newest}`).toBe(
      true,
    );
    expect(await waitFor(() => streams.size === 1), "the stuck client dropped").toBe(true);
    expect(stuck.events).toBe(0);
    expect(reader.closed).toBe(false);
  });

  it("end every stream on close", async () => {
    const { streams, port } = await setup(30_000);
    const a = client(port, true);
    const b = client(port, true);
    expect(await waitFor(() => streams.size === 2)).toBe(true);
    streams.close();
    expect(await waitFor(() => a.closed && b.closed, 2000)).toBe(true);
  });
});
