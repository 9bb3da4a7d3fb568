import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gantryBody, unleashBody } from "./flag-sets.ts";

/**
 * One local HTTP server feeding both SDKs, so no internet and no server process is needed:
 * Gantry's SDK sync endpoints (flag set with ETag, the SSE stream, evaluation reports) and
 * Unleash's client API (features, register, metrics). Both SDKs' reports are accepted and
 * counted, so both do their usual background work.
 */
export class BenchFeeds {
  readonly #server: Server;
  readonly #gantry = gantryBody();
  readonly #unleash = unleashBody();
  readonly #streams = new Set<import("node:http").ServerResponse>();
  /** Evaluations each SDK reported counting. */
  gantryCounted = 0;
  unleashCounted = 0;
  readonly #keepalive: NodeJS.Timeout;
  url = "";

  constructor() {
    this.#server = createServer(async (req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      let body = "";
      for await (const chunk of req) body += chunk;
      switch (path) {
        case "/api/v1/sdk/flags":
          res.writeHead(200, { "content-type": "application/json", etag: '"1"' }).end(this.#gantry);
          return;
        case "/api/v1/sdk/flags/stream":
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(`event: flags\nid: 1\nretry: 1000\ndata: ${this.#gantry}\n\n`);
          this.#streams.add(res);
          res.on("close", () => this.#streams.delete(res));
          return;
        case "/api/v1/sdk/flags/evaluations":
          for (const e of (JSON.parse(body) as { evaluations: { count: number }[] }).evaluations)
            this.gantryCounted += e.count;
          res.writeHead(202, { "content-type": "application/json" }).end("{}");
          return;
        case "/api/client/features":
          res.writeHead(200, { "content-type": "application/json", etag: '"1"' }).end(this.#unleash);
          return;
        case "/api/client/metrics": {
          const toggles = (
            JSON.parse(body) as { bucket: { toggles: Record<string, { yes: number; no: number }> } }
          ).bucket.toggles;
          for (const t of Object.values(toggles)) this.unleashCounted += t.yes + t.no;
          res.writeHead(202).end();
          return;
        }
        case "/api/client/register":
          res.writeHead(202).end();
          return;
        default:
          res.writeHead(404).end();
      }
    });
    // As Gantry does, so the SDK's stream stays up through the run.
    this.#keepalive = setInterval(() => {
      for (const res of this.#streams) res.write(": keepalive\n\n");
    }, 15_000);
    this.#keepalive.unref();
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    clearInterval(this.#keepalive);
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
