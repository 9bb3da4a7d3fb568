// The Gantry demo service: a small HTTP API whose faults can be switched on through env,
// so that a "bad build" is one `--env` away. Node built-ins only: it is deployed as an
// artifact without node_modules.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { DatabaseSync } from "node:sqlite";

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(
      `demo-app: ${name}=${JSON.stringify(text)} is invalid; give a number from ${min} to ${max}`,
    );
    process.exit(2);
  }
  return value;
}

const settings = {
  port: envNumber("PORT", 3000, 0, 65535),
  host: process.env.HOST ?? "127.0.0.1",
  service: process.env.GANTRY_SERVICE ?? "demo",
  version: process.env.GANTRY_VERSION ?? "dev",
  instance: process.env.GANTRY_INSTANCE ?? "local",
  failRate: envNumber("DEMO_FAIL_RATE", 0, 0, 1),
  latencyMs: envNumber("DEMO_LATENCY_MS", 0, 0, 600_000),
  startDelayMs: envNumber("DEMO_START_DELAY_MS", 0, 0, 600_000),
  crashOnStart: process.env.DEMO_CRASH_ON_START === "1",
  healthFail: process.env.DEMO_HEALTH_FAIL === "1",
  db: process.env.DEMO_DB ?? "./demo.sqlite",
};

if (settings.crashOnStart) {
  console.error("demo-app: DEMO_CRASH_ON_START=1, exiting");
  process.exit(1);
}

// SQLite in WAL mode with a busy timeout: instances of several versions write to one file
// at once without losing an item.
const db = new DatabaseSync(settings.db);
db.exec(`PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;
  CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created_at TEXT NOT NULL, version TEXT NOT NULL)`);
const insertItem = db.prepare(
  "INSERT INTO items (name, created_at, version) VALUES (?, ?, ?) RETURNING id, name, created_at AS createdAt, version",
);
const listItems = db.prepare("SELECT id, name, created_at AS createdAt, version FROM items ORDER BY id");

let shuttingDown = false;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
    "content-length": Buffer.byteLength(text),
    "x-demo-version": settings.version,
    // While shutting down, no connection is kept for another request.
    ...(shuttingDown && { connection: "close" }),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("body larger than 64 KiB");
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/healthz")
    return send(res, settings.healthFail ? 500 : 200, settings.healthFail ? "unhealthy" : "ok");
  if (settings.latencyMs > 0) await new Promise((r) => setTimeout(r, settings.latencyMs));
  if (settings.failRate > 0 && Math.random() < settings.failRate) {
    return send(res, 500, { error: "injected failure (DEMO_FAIL_RATE)" });
  }
  if (path === "/" && req.method === "GET") {
    return send(res, 200, {
      service: settings.service,
      version: settings.version,
      instance: settings.instance,
    });
  }
  if (path === "/items" && req.method === "GET") return send(res, 200, { items: listItems.all() });
  if (path === "/items" && req.method === "POST") {
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (error) {
      return send(res, 400, { error: `invalid JSON body: ${(error as Error).message}` });
    }
    const name = (body as { name?: unknown }).name;
    if (typeof name !== "string" || name.length === 0 || name.length > 200) {
      return send(res, 400, { error: 'send {"name": "..."} with a name of 1 to 200 characters' });
    }
    return send(res, 201, insertItem.get(name, new Date().toISOString(), settings.version));
  }
  return send(res, 404, { error: `no route ${req.method} ${path}` });
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error("demo-app: request failed", error);
    if (!res.headersSent) send(res, 500, { error: "internal error" });
  });
});
server.keepAliveTimeout = 65_000;

function shutdown(signal: string): void {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`demo-app ${settings.instance}: ${signal}, finishing in-flight requests`);
  server.close(() => {
    db.close();
    process.exit(0);
  });
  // Connections that finish their request become idle; close them as they do.
  setInterval(() => server.closeIdleConnections(), 50).unref();
  setTimeout(() => process.exit(0), 8000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

setTimeout(() => {
  server.listen(settings.port, settings.host, () => {
    console.log(
      `demo-app ${settings.service} ${settings.version} (${settings.instance}) listening on ${settings.host}:${settings.port}`,
    );
  });
}, settings.startDelayMs);
