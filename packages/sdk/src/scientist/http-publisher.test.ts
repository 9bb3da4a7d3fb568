import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpPublisher, type HttpPublisherOptions } from "./http-publisher.ts";
import { Scientist } from "./scientist.ts";
import type { WireResult } from "./wire-result.ts";

/** A real Gantry stand-in: records what it is sent and answers with a chosen status. */
class ResultsServer {
  readonly requests: {
    authorization: string | undefined;
    path: string | undefined;
    results: WireResult[];
  }[] = [];
  status = 202;
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer(async (request, response) => {
      const body = JSON.parse(await readBody(request)) as { results: WireResult[] };
      this.requests.push({
        authorization: request.headers.authorization,
        path: request.url,
        results: body.results,
      });
      response.writeHead(this.status).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  get results(): WireResult[] {
    return this.requests.flatMap((request) => request.results);
  }

  async waitForResults(count: number, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.results.length < count) {
      if (Date.now() > until) throw new Error(`got ${this.results.length} of ${count} results`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setUp(options: Partial<HttpPublisherOptions> = {}) {
  const server = new ResultsServer();
  await server.start();
  const raised: { error: unknown; operation: string }[] = [];
  const publisher = new HttpPublisher({
    baseUrl: `http://127.0.0.1:${server.port}/`,
    token: "exp-token",
    flushIntervalMs: 20,
    raised: (error, { operation }) => raised.push({ error, operation }),
    ...options,
  });
  const scientist = new Scientist({
    publisher,
    raised: (error, { operation }) => raised.push({ error, operation }),
  });
  cleanups.push(async () => {
    await publisher.close();
    await server.stop();
  });
  const run = (i: number) =>
    scientist.scienceSync<number>("widget-permissions", (e) => {
      e.use(() => i);
      e.try(() => (i % 2 === 0 ? i : -i));
      e.context({ targetingKey: `user-${i}` });
    });
  return { server, publisher, scientist, raised, run };
}

describe("HttpPublisher", () => {
  it("posts results in batches with the bearer token, in the documented shape", async () => {
    const { server, run } = await setUp({ batchSize: 3 });
    for (let i = 0; i < 5; i++) run(i);
    await server.waitForResults(5);
    expect(server.requests.map((r) => r.results.length)).toEqual([3, 2]);
    expect(server.requests[0]).toMatchObject({
      authorization: "Bearer exp-token",
      path: "/api/v1/experiments/results",
    });
    const odd = server.results.find((r) => r.context["targetingKey"] === "user-1")!;
    expect(odd).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "widget-permissions",
      context: { targetingKey: "user-1" },
      control: {
        name: "control",
        value: 1,
        timedOut: false,
        durationMs: expect.any(Number),
        cpuMs: expect.any(Number),
      },
      candidates: [
        {
          name: "candidate",
          value: -1,
          timedOut: false,
          durationMs: expect.any(Number),
          cpuMs: expect.any(Number),
        },
      ],
      matched: [],
      ignored: [],
      mismatched: ["candidate"],
      returned: "control",
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      sampled: 1,
    });
  });

  it("keeps publishing instant while the server is down, counts what it drops, and delivers the rest when it is back", async () => {
    const { server, publisher, raised, run } = await setUp({ batchSize: 5, maxQueue: 20, maxBackoffMs: 100 });
    const port = server.port;
    await server.stop();

    const started = performance.now();
    for (let i = 0; i < 50; i++) run(i);
    const perCallMs = (performance.now() - started) / 50;
    expect(perCallMs).toBeLessThan(1);

    // Several attempts fail while the server is away; it is reported once.
    await waitUntil(() => publisher.stats().failedRequests >= 3);
    expect(publisher.stats()).toMatchObject({ queued: 20, dropped: 30, sent: 0 });
    expect(raised.filter((r) => r.operation === "publish")).toHaveLength(1);

    await server.start(port);
    await server.waitForResults(20);
    // The server has them; the publisher counts them once it has read the answers.
    await waitUntil(() => publisher.stats().queued === 0 && publisher.stats().sent === 20);
    expect(publisher.stats()).toMatchObject({ queued: 0, sent: 20, dropped: 30 });
    expect(new Set(server.results.map((r) => r.context["targetingKey"])).size).toBe(20);
  });

  it("retries a batch the server failed to store, with the same result ids", async () => {
    const { server, publisher, run } = await setUp({ batchSize: 2, maxBackoffMs: 50 });
    server.status = 503;
    run(1);
    run(2);
    await waitUntil(() => publisher.stats().failedRequests >= 1);
    server.status = 202;
    await waitUntil(() => publisher.stats().sent === 2);
    const ids = server.requests.map((request) => request.results.map((r) => r.id));
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(ids.at(-1)).toEqual(ids[0]);
  });

  it("drops a batch the server refuses, without retrying it", async () => {
    const { server, publisher, raised, run } = await setUp({ batchSize: 2 });
    server.status = 401;
    run(1);
    run(2);
    await waitUntil(() => publisher.stats().rejected === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
    expect(publisher.stats()).toMatchObject({ queued: 0, rejected: 2, sent: 0 });
    expect(String(raised[0]!.error)).toMatch(/401/);
  });

  it("counts a result that cannot be serialised, reports a failing clean, and still sends the rest", async () => {
    const { server, publisher, scientist, raised } = await setUp();
    scientist.scienceSync("bigint", (e) => {
      e.use(() => 10n);
      e.try(() => 10n);
    });
    scientist.scienceSync("bad-clean", (e) => {
      e.use(() => 1);
      e.try(() => 1);
      e.clean(() => {
        throw new Error("clean failed");
      });
    });
    await server.waitForResults(1);
    await waitUntil(() => publisher.stats().sent === 1);
    expect(server.results[0]).toMatchObject({ name: "bad-clean", control: { value: null } });
    expect(publisher.stats()).toMatchObject({ unserializable: 1, sent: 1 });
    expect(raised.map((r) => r.operation).toSorted()).toEqual(["clean", "clean", "serialize"]);
  });

  it("sends what is queued when closed", async () => {
    const { server, publisher, run } = await setUp({ flushIntervalMs: 60_000 });
    run(1);
    expect(server.results).toHaveLength(0);
    await publisher.close();
    expect(server.results).toHaveLength(1);
  });

  it("refuses options it cannot use, naming them", () => {
    expect(() => new HttpPublisher({ baseUrl: "gantry:7070", token: "t" })).toThrow(/baseUrl/);
    expect(() => new HttpPublisher({ baseUrl: "http://x", token: "t", batchSize: 0 })).toThrow(/batchSize/);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
