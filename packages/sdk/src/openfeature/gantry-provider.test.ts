/**
 * The provider against a scripted stand-in for Gantry's SDK endpoints, for what a real
 * Gantry never does (serve a flag set this SDK cannot use, a stream that goes silent, 503s
 * on a schedule). Everything a real Gantry can show is tested in test/e2e/sdk-provider.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { type EventDetails, OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { booleanFlag } from "../flags/fixtures.ts";
import type { FlagSetInput } from "../flags/index.ts";
import { GantryProvider, type GantryProviderOptions } from "./index.ts";

class ScriptedGantry {
  body = "";
  revision = 0;
  stream: "serve" | "silent" | number = "serve";
  reports: number | "accept" = "accept";
  readonly streamAttempts: { at: number; lastEventId: string | undefined }[] = [];
  readonly reported: { flagKey: string; variant: string; count: number }[] = [];
  readonly #open = new Set<ServerResponse>();
  #server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  publish(revision: number, flagSet: unknown): void {
    this.revision = revision;
    this.body = JSON.stringify({ environment: "production", revision, flagSet });
    for (const res of this.#open) res.write(`event: flags\nid: ${revision}\ndata: ${this.body}\n\n`);
  }

  async stop(): Promise<void> {
    for (const res of this.#open) res.destroy();
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url?.split("?")[0];
    if (path === "/api/v1/sdk/flags/stream") {
      const lastEventId = req.headers["last-event-id"] as string | undefined;
      this.streamAttempts.push({ at: performance.now(), lastEventId });
      if (typeof this.stream === "number") return void res.writeHead(this.stream).end("unavailable");
      res.writeHead(200, { "content-type": "text/event-stream" });
      this.#open.add(res);
      res.on("close", () => this.#open.delete(res));
      // As Gantry does: the current set first, unless the client has it already.
      if (lastEventId !== String(this.revision))
        res.write(`event: flags\nid: ${this.revision}\nretry: 1000\ndata: ${this.body}\n\n`);
      else res.write("retry: 1000\n\n");
      return;
    }
    if (path === "/api/v1/sdk/flags") {
      if (req.headers["if-none-match"] === `"${this.revision}"`) return void res.writeHead(304).end();
      return void res
        .writeHead(200, { etag: `"${this.revision}"`, "content-type": "application/json" })
        .end(this.body);
    }
    if (path === "/api/v1/sdk/flags/evaluations") {
      let text = "";
      for await (const chunk of req) text += chunk;
      if (this.reports !== "accept") return void res.writeHead(this.reports).end();
      this.reported.push(...JSON.parse(text).evaluations);
      return void res.writeHead(202, { "content-type": "application/json" }).end("{}");
    }
    res.writeHead(404).end();
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scripted(): Promise<ScriptedGantry> {
  const server = new ScriptedGantry();
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

async function connect(server: ScriptedGantry, options: Partial<GantryProviderOptions> = {}) {
  const provider = new GantryProvider({
    baseUrl: server.url,
    token: "t",
    logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
    ...options,
  });
  cleanups.push(() => provider.onClose());
  const domain = `d-${Math.random()}`;
  const client = OpenFeature.getClient(domain);
  const events: { event: ProviderEvents; details: EventDetails | undefined }[] = [];
  for (const event of Object.values(ProviderEvents))
    client.addHandler(event, (details) => events.push({ event, details }));
  const ready = OpenFeature.setProviderAndWait(domain, provider);
  ready.catch(() => {});
  return { provider, client, events, ready };
}

const onFor = (country: string): FlagSetInput => ({
  flags: {
    f: booleanFlag({
      rules: [{ clauses: [{ attribute: "country", operator: "in", values: [country] }], variant: "on" }],
    }),
  },
});

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("GantryProvider against a stand-in server", () => {
  it("refuses a flag set it cannot use, keeps the last good one, and is READY again with the next good one", async () => {
    const server = await scripted();
    server.publish(1, onFor("DK"));
    const app = await connect(server);
    await app.ready;
    const dk = { targetingKey: "u", country: "DK" };
    expect(await app.client.getBooleanValue("f", false, dk)).toBe(true);

    // As from a newer Gantry with an operator this SDK does not know.
    const newer = structuredClone(onFor("DK"));
    (newer.flags.f!.environments.production!.rules![0]!.clauses[0] as { operator: string }).operator = "like";
    server.publish(2, newer);
    await until(() => app.events.some((e) => e.event === ProviderEvents.Error), "the error event");
    const error = app.events.find((e) => e.event === ProviderEvents.Error)!;
    expect(error.details?.message).toContain("serving revision 1 still");
    expect(error.details?.message).toContain(
      "flagSet.flags.f.environments.production.rules[0].clauses[0].operator",
    );
    expect(await app.client.getBooleanDetails("f", false, dk)).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
    expect(app.provider.stats().revision).toBe(1);

    server.publish(3, onFor("SE"));
    await until(() => app.events.some((e) => e.event === ProviderEvents.ConfigurationChanged), "the change");
    expect(app.events.map((e) => e.event).slice(-2)).toEqual([
      ProviderEvents.Ready,
      ProviderEvents.ConfigurationChanged,
    ]);
    expect(await app.client.getBooleanValue("f", true, dk)).toBe(false);
  });

  it("passes the clock to rules on $now (scheduled launches)", async () => {
    const server = await scripted();
    const on = (operator: "after" | "before") =>
      booleanFlag({
        rules: [{ clauses: [{ attribute: "$now", operator, values: ["2020-01-01"] }], variant: "on" }],
      });
    server.publish(1, { flags: { launched: on("after"), expired: on("before") } });
    const app = await connect(server);
    await app.ready;
    expect(await app.client.getBooleanDetails("launched", false)).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
    expect(await app.client.getBooleanDetails("expired", true)).toMatchObject({
      value: false,
      reason: "DEFAULT",
    });
  });

  it("with no usable flag set at all, evaluations serve the default with PARSE_ERROR", async () => {
    const server = await scripted();
    server.publish(1, {
      flags: {
        f: {
          type: "boolean",
          variants: { on: true },
          defaultVariant: "of",
          environments: { production: { enabled: true } },
        },
      },
    });
    const app = await connect(server);
    await expect(app.ready).rejects.toThrow(/cannot use \(no flags to serve\).*defaultVariant/);
    const details = await app.client.getBooleanDetails("f", true, { targetingKey: "u" });
    expect(details).toMatchObject({ value: true, reason: "ERROR", errorCode: "PARSE_ERROR" });
  });

  it("drops a stream that goes silent and reconnects with Last-Event-ID, getting nothing it has", async () => {
    const server = await scripted();
    server.publish(4, onFor("DK"));
    const app = await connect(server, { streamIdleTimeoutMs: 300, reconnectDelayMs: 50 });
    await app.ready;
    await until(() => server.streamAttempts.length >= 3, "two reconnects");
    expect(server.streamAttempts.map((a) => a.lastEventId)).toEqual([undefined, "4", "4"]);
    const gap = server.streamAttempts[2]!.at - server.streamAttempts[1]!.at;
    expect(gap).toBeGreaterThanOrEqual(300);
    expect(app.events.filter((e) => e.event === ProviderEvents.ConfigurationChanged)).toEqual([]);
  });

  it("retries an unavailable stream with exponential backoff and jitter, polling meanwhile", async () => {
    const server = await scripted();
    server.publish(1, onFor("DK"));
    server.stream = 503;
    const app = await connect(server, {
      reconnectDelayMs: 100,
      maxReconnectDelayMs: 800,
      pollIntervalMs: 200,
    });
    await app.ready;
    expect(app.provider.stats().connection).toBe("polling");
    await until(() => server.streamAttempts.length >= 7, "seven stream attempts", 8000);
    const at = server.streamAttempts.map((a) => a.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    gaps.forEach((gap, k) => {
      const schedule = Math.min(800, 100 * 2 ** k);
      expect(gap, `gap ${k} of ${gaps.map(Math.round).join(", ")}`).toBeGreaterThanOrEqual(schedule / 2 - 5);
      expect(gap, `gap ${k} of ${gaps.map(Math.round).join(", ")}`).toBeLessThanOrEqual(schedule + 80);
    });
    // Once the stream is back, it is used.
    server.stream = "serve";
    await until(() => app.provider.stats().connection === "stream", "the stream", 3000);
  });

  it("holds evaluation counts while reports fail, bounded: what does not fit is dropped and counted", async () => {
    const server = await scripted();
    server.publish(1, {
      flags: { a: booleanFlag(), b: booleanFlag(), c: booleanFlag({ enabled: false }) },
    });
    server.reports = 503;
    const app = await connect(server, { maxReportEntries: 2, reportIntervalMs: 60_000 });
    await app.ready;
    for (let i = 0; i < 5; i++) {
      for (const key of ["a", "b", "c"]) await app.client.getBooleanValue(key, false, { targetingKey: "u" });
    }
    await app.provider.flushEvaluations();
    expect(app.provider.stats()).toMatchObject({
      evaluationsPending: 10,
      evaluationsDropped: 5,
      reportsFailed: 1,
    });
    server.reports = "accept";
    await app.provider.flushEvaluations();
    expect(server.reported.map(({ flagKey, variant, count }) => ({ flagKey, variant, count }))).toEqual([
      { flagKey: "a", variant: "off", count: 5 },
      { flagKey: "b", variant: "off", count: 5 },
    ]);
    expect(app.provider.stats()).toMatchObject({ evaluationsPending: 0, evaluationsReported: 10 });
  });
});

describe("GantryProvider closed while it starts", () => {
  it("stops waiting for a Gantry that does not answer, and says so", async () => {
    // Takes connections and what is sent on them, and never answers.
    const silent = createNetServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      await new Promise((resolve) => silent.close(resolve));
    });
    const port = (silent.address() as AddressInfo).port;
    const provider = new GantryProvider({
      baseUrl: `http://127.0.0.1:${port}`,
      token: "t",
      logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
    });
    const starting = provider.initialize();
    await new Promise((r) => setTimeout(r, 100));
    const closedAt = performance.now();
    await provider.onClose();
    await expect(starting).rejects.toThrow("the provider was closed while starting");
    expect(performance.now() - closedAt).toBeLessThan(1000);
    expect(provider.getDetails("f", true)).toMatchObject({ value: true, errorCode: "PROVIDER_NOT_READY" });
    // Nothing of the provider's is left connected.
    await new Promise((r) => setTimeout(r, 100));
    const connections = await new Promise<number>((resolve) => silent.getConnections((_, n) => resolve(n)));
    expect(connections).toBe(0);
  });
});

describe("GantryProvider options", () => {
  it("refuses bad options at construction, naming the option and the fix", () => {
    expect(() => new GantryProvider({ baseUrl: "gantry:7070", token: "t" })).toThrow(
      /baseUrl "gantry:7070" must be Gantry's http/,
    );
    expect(() => new GantryProvider({ baseUrl: "http://g", token: " " })).toThrow(
      /token is missing; make one with: gantry tokens create --role sdk --env/,
    );
    expect(() => new GantryProvider({ baseUrl: "http://g", token: "t", staleAfterMs: -1 })).toThrow(
      /staleAfterMs -1 must be a positive number/,
    );
  });
});
