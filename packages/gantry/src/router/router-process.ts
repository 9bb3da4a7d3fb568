import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createAdminServer } from "./admin-server.ts";
import { emptyPolicy, type RouterPolicy } from "./policy.ts";
import { routerPolicySchema } from "./policy-schema.ts";
import { ReverseProxy } from "./proxy.ts";
import { RouterMetrics } from "./router-metrics.ts";

/**
 * The router process: `node router-process.ts --data-dir DIR --port 8080 --host 127.0.0.1
 * --admin-port 7071`. Started detached by the control plane, it serves on the last policy
 * it was given (kept in DIR/router/policy.json) whether or not the control plane is up.
 */
const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
    "admin-port": { type: "string", default: "7071" },
  },
});
const dir = join(values["data-dir"] ?? ".gantry", "router");
mkdirSync(dir, { recursive: true, mode: 0o700 });
const files = {
  policy: join(dir, "policy.json"),
  token: join(dir, "admin.token"),
  info: join(dir, "admin.json"),
  pid: join(dir, "router.pid"),
};

function adminToken(): string {
  if (existsSync(files.token)) return readFileSync(files.token, "utf8").trim();
  const token = randomBytes(32).toString("base64url");
  writeFileSync(files.token, `${token}\n`, { mode: 0o600, flag: "wx" });
  return token;
}

function loadPolicy(): RouterPolicy {
  if (!existsSync(files.policy)) return emptyPolicy;
  const parsed = routerPolicySchema.safeParse(JSON.parse(readFileSync(files.policy, "utf8")));
  if (parsed.success) return parsed.data;
  console.error(
    "router: the stored policy is invalid; starting with none until the control plane pushes one",
  );
  return emptyPolicy;
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

const metrics = new RouterMetrics();
const proxy = new ReverseProxy(metrics);
let policy = loadPolicy();
proxy.setPolicy(policy);

const server = createServer(
  {
    maxHeaderSize: 16 * 1024,
    headersTimeout: 10_000,
    requestTimeout: 120_000,
    keepAliveTimeout: 5000,
    connectionsCheckingInterval: 1000,
  },
  proxy.handle,
);
server.on("clientError", (error, socket) => {
  // A client that is too slow or sends garbage gets a status line and loses its connection,
  // even if it keeps writing (which would hold a half-closed socket open).
  const code = (error as { code?: string }).code;
  const status =
    code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? "408 Request Timeout"
      : code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : "400 Bad Request";
  if (!socket.writable) return socket.destroy();
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), 250).unref();
});

const admin = createAdminServer({
  token: adminToken(),
  policy: () => policy,
  apply(next) {
    writeAtomic(files.policy, JSON.stringify(next));
    policy = next;
    proxy.setPolicy(next);
  },
  inflight: () => proxy.pools.inflight(),
  breakers: () => proxy.breakers(),
  metrics: () => metrics.text(),
});

server.listen(Number(values.port), values.host, () => {
  admin.listen(Number(values["admin-port"]), "127.0.0.1", () => {
    const address = admin.address();
    const adminPort = typeof address === "object" && address ? address.port : Number(values["admin-port"]);
    writeAtomic(files.pid, `${process.pid}\n`);
    writeAtomic(files.info, `${JSON.stringify({ port: adminPort, pid: process.pid })}\n`);
    console.log(
      `router ${process.pid} serving on ${values.host}:${values.port}, admin on 127.0.0.1:${adminPort}`,
    );
  });
});
for (const s of [server, admin]) {
  s.on("error", (error) => {
    console.error(`router: ${(error as Error).message}`);
    process.exit(1);
  });
}

function shutdown(signal: string): void {
  console.log(`router: ${signal}, finishing in-flight requests`);
  admin.close();
  server.close(() => process.exit(0));
  // Idle keep-alive connections would hold close() open; in-flight ones finish first.
  setInterval(() => server.closeIdleConnections(), 100).unref();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
