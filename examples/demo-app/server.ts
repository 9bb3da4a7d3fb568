// The Gantry demo service: a small HTTP API whose faults can be switched on through env,
// so that a "bad build" is one `--env` away. Node built-ins only: it is deployed as an
// artifact without node_modules, and run as `node server.ts` (Node 24 strips the types).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { DatabaseSync } from "node:sqlite";

/** Exit code for a setting that cannot be used (DEMO_CRASH_ON_START exits 1). */
const badSetting = 2;

function fail(message: string): never {
  console.error(`demo-app: ${message}`);
  process.exit(badSetting);
}

function envNumber(name: string, fallback: number, min: number, max: number, integer = true): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    fail(
      `${name}=${JSON.stringify(text)} is invalid; give ${integer ? "a whole number" : "a number"} from ${min} to ${max}`,
    );
  }
  return value;
}

function envSwitch(name: string): boolean {
  const text = process.env[name]?.trim() ?? "";
  if (text === "" || text === "0") return false;
  if (text === "1") return true;
  return fail(`${name}=${JSON.stringify(text)} is invalid; give 1 (on) or 0 (off)`);
}

function envText(name: string, fallback: string): string {
  const text = process.env[name];
  if (text === undefined) return fallback;
  if (text.trim() === "") fail(`${name} is set but empty; unset it or give a value`);
  return text;
}

const settings = Object.freeze({
  port: envNumber("PORT", 3000, 0, 65535),
  host: envText("HOST", "127.0.0.1"),
  service: process.env.GANTRY_SERVICE || "demo",
  version: process.env.GANTRY_VERSION || "dev",
  instance: process.env.GANTRY_INSTANCE || "local",
  failRate: envNumber("DEMO_FAIL_RATE", 0, 0, 1, false),
  latencyMs: envNumber("DEMO_LATENCY_MS", 0, 0, 600_000),
  startDelayMs: envNumber("DEMO_START_DELAY_MS", 0, 0, 600_000),
  memoryMb: envNumber("DEMO_MEMORY_MB", 0, 0, 4096),
  crashOnStart: envSwitch("DEMO_CRASH_ON_START"),
  healthFail: envSwitch("DEMO_HEALTH_FAIL"),
  db: envText("DEMO_DB", "./demo.sqlite"),
});

// A "build that uses more memory": this much resident memory, held for the process' life.
export const ballast = Buffer.alloc(settings.memoryMb * 1024 * 1024, 1);

if (settings.crashOnStart) {
  console.error("demo-app: DEMO_CRASH_ON_START=1, exiting");
  process.exit(1);
}

/** How long SIGTERM waits for in-flight requests before exiting anyway. */
const drainDeadlineMs = 5000;

// SQLite in WAL mode with a busy timeout: instances of several versions, in several
// processes, write to one file at once without losing an item. The timeout comes first
// so that even switching to WAL waits for a concurrent opener instead of failing.
/**
 * Opens the item store. Instances starting together on a new file race to switch it to WAL,
 * and SQLite answers one of them "database is locked" at once, without waiting out the busy
 * timeout (it would deadlock otherwise); that one tries again shortly.
 */
function openStore(file: string): DatabaseSync {
  for (let attempt = 1; ; attempt++) {
    let opened: DatabaseSync | undefined;
    try {
      opened = new DatabaseSync(file);
      opened.exec(`PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
          created_at TEXT NOT NULL, version TEXT NOT NULL)`);
      return opened;
    } catch (error) {
      opened?.close();
      const message = (error as Error).message;
      if (attempt < 100 && /locked|busy/i.test(message)) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        continue;
      }
      return fail(`cannot open DEMO_DB=${JSON.stringify(file)}: ${message}; give a writable file path`);
    }
  }
}

const db = openStore(settings.db);
const insertItem = db.prepare(
  "INSERT INTO items (name, created_at, version) VALUES (?, ?, ?) RETURNING id, name, created_at AS createdAt, version",
);
const listItems = db.prepare("SELECT id, name, created_at AS createdAt, version FROM items ORDER BY id");

// Scientist: /compare runs an experiment (the sum of 1..n by a loop, and by a formula) and
// reports it to Gantry. The SDK comes from GANTRY_SDK_MODULE (Gantry sets it), since this
// folder is deployed without node_modules; without it /compare answers 501.
type Science = (
  name: string,
  define: (e: {
    use(fn: () => number): unknown;
    try(fn: () => number): unknown;
    context(c: Record<string, unknown>): unknown;
  }) => void,
) => Promise<number>;
let science: Science | undefined;
if (process.env.GANTRY_SDK_MODULE && process.env.GANTRY_API && process.env.GANTRY_SDK_TOKEN) {
  try {
    const sdk = await import(process.env.GANTRY_SDK_MODULE);
    const publisher = new sdk.HttpPublisher({
      baseUrl: process.env.GANTRY_API,
      token: process.env.GANTRY_SDK_TOKEN,
      flushIntervalMs: 250,
    });
    sdk.configureScience({ publisher, raised: (_e: unknown) => {} });
    science = sdk.science;
  } catch (error) {
    console.error(`demo-app: could not load the Gantry SDK (${(error as Error).message}); /compare is off`);
  }
}
const candidateBug = process.env.DEMO_CANDIDATE_BUG === "1";

function sumByLoop(n: number): number {
  let total = 0;
  for (let i = 1; i <= n; i++) total += i;
  return total;
}

function sumByFormula(n: number): number {
  // The planted bug: off by one above 10, so the experiment reports mismatches.
  return (n * (n + 1)) / 2 + (candidateBug && n > 10 ? 1 : 0);
}

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

class BadRequest extends Error {}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new BadRequest("body larger than 64 KiB");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch (error) {
    throw new BadRequest(`invalid JSON body: ${(error as Error).message}`);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/healthz") {
    return send(
      res,
      settings.healthFail ? 500 : 200,
      settings.healthFail ? "unhealthy (DEMO_HEALTH_FAIL)" : "ok",
    );
  }
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
  // What reached the app, after the router: to see which headers it adds or keeps back.
  if (path === "/headers" && req.method === "GET") return send(res, 200, { headers: req.headers });
  if (path === "/compare" && req.method === "GET") {
    if (!science) return send(res, 501, { error: "the Gantry SDK is not available (GANTRY_SDK_MODULE)" });
    const n = Number(new URL(req.url ?? "/", "http://x").searchParams.get("n") ?? "10");
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000)
      return send(res, 400, { error: "n must be a whole number from 0 to 1000000" });
    const sum = await science("demo-sum", (e) => {
      e.use(() => sumByLoop(n));
      e.try(() => sumByFormula(n));
      e.context({ n });
    });
    return send(res, 200, { n, sum });
  }
  if (path === "/items" && req.method === "POST") {
    const body = await readJson(req);
    const name = typeof body === "object" && body !== null ? (body as { name?: unknown }).name : undefined;
    if (typeof name !== "string" || name.length === 0 || name.length > 200) {
      throw new BadRequest('send {"name": "..."} with a name of 1 to 200 characters');
    }
    return send(res, 201, insertItem.get(name, new Date().toISOString(), settings.version));
  }
  if (path === "/" || path === "/items")
    return send(res, 405, { error: `${req.method} is not allowed on ${path}` });
  return send(res, 404, { error: `no route ${req.method} ${path}` });
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (res.headersSent) return;
    if (error instanceof BadRequest) return send(res, 400, { error: error.message });
    console.error("demo-app: request failed", error);
    send(res, 500, { error: "internal error" });
  });
});
server.keepAliveTimeout = 65_000;
server.on("error", (error: NodeJS.ErrnoException) => {
  fail(
    `cannot listen on ${settings.host}:${settings.port} (${error.code ?? error.message}); check PORT and HOST`,
  );
});

function shutdown(signal: string): void {
  if (shuttingDown) return;
  shuttingDown = true;
  clearTimeout(startTimer); // stopped during DEMO_START_DELAY_MS: never listen
  console.log(`demo-app ${settings.instance}: ${signal}, finishing in-flight requests`);
  // Stops accepting; the callback runs once every connection has ended (at once when it
  // never listened).
  server.close(() => {
    db.close();
    process.exit(0);
  });
  // Keep-alive connections between requests would hold the server open: close them now,
  // and each busy one as soon as its response is out (responses carry Connection: close).
  server.closeIdleConnections();
  setInterval(() => server.closeIdleConnections(), 50).unref();
  setTimeout(() => {
    console.error(
      `demo-app ${settings.instance}: requests still running after ${drainDeadlineMs} ms, exiting`,
    );
    process.exit(0);
  }, drainDeadlineMs).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

if (settings.startDelayMs > 0) {
  console.log(
    `demo-app ${settings.instance}: waiting ${settings.startDelayMs} ms (DEMO_START_DELAY_MS) before listening`,
  );
}
const startTimer = setTimeout(() => {
  server.listen(settings.port, settings.host, () => {
    const { port } = server.address() as { port: number };
    console.log(
      `demo-app ${settings.service} ${settings.version} (${settings.instance}) listening on ${settings.host}:${port}`,
    );
  });
}, settings.startDelayMs);
