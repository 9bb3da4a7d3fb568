import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { createAdminServer } from "./admin-server.ts";
import { defaultClientLimits, Http1Server } from "./http1/http1-server.ts";
import { defaultPoolSettings } from "./http1/instance-pools.ts";
import type { RouterPolicy } from "./policy.ts";
import { ReverseProxy } from "./proxy.ts";
import { ensureAdminToken, loadPolicy, readAdminInfo, routerFiles, writeAtomic } from "./router-files.ts";
import { RouterMetrics } from "./router-metrics.ts";

/**
 * The router process: `node router-process.ts --data-dir DIR --port 8080 --host 127.0.0.1
 * --admin-port 7071`. Started detached by the control plane, it serves on the last policy
 * it was given (kept in DIR/router/policy.json) whether or not the control plane is up.
 * Ready when DIR/router/admin.json names its pid. SIGTERM/SIGINT: stop accepting, finish
 * requests in flight (at most --grace-ms), exit 0.
 */
const { values } = parseArgs({
  options: {
    "data-dir": { type: "string", default: ".gantry" },
    port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
    "admin-port": { type: "string", default: "7071" },
    "headers-timeout-ms": { type: "string", default: String(defaultClientLimits.headersMs) },
    "upstream-timeout-ms": { type: "string", default: String(defaultPoolSettings.responseMs) },
    "grace-ms": { type: "string", default: "10000" },
  },
});
const files = routerFiles(values["data-dir"]);
const token = ensureAdminToken(files);
const metrics = new RouterMetrics();
const proxy = new ReverseProxy(metrics, {
  pools: { ...defaultPoolSettings, responseMs: Number(values["upstream-timeout-ms"]) },
});
const loaded = loadPolicy(files);
if (loaded.problem)
  console.error(
    `router: the stored policy is unusable (${loaded.problem}); serving none until one is pushed`,
  );
let policy: RouterPolicy = loaded.policy;
proxy.setPolicy(policy);

const server = new Http1Server({
  limits: { ...defaultClientLimits, headersMs: Number(values["headers-timeout-ms"]) },
  dispatch: proxy.dispatch,
  onSweep: (now) => proxy.pools.sweep(now),
});

const admin = createAdminServer({
  token,
  policy: () => policy,
  apply(next) {
    // On disk first: a policy the router serves is one it will serve again after a restart.
    writeAtomic(files.policy, JSON.stringify(next));
    policy = next;
    proxy.setPolicy(next);
  },
  inflight: () => proxy.pools.inflight(),
  breakers: () => proxy.breakers(),
  shadow: () => proxy.shadow.stats(),
  metrics: () => metrics.text(),
});

async function start(): Promise<void> {
  await server.listen(Number(values.port), values.host);
  await new Promise<void>((resolve, reject) => {
    admin.once("error", reject);
    admin.listen(Number(values["admin-port"]), "127.0.0.1", resolve);
  });
  const address = admin.address();
  const adminPort = typeof address === "object" && address ? address.port : Number(values["admin-port"]);
  writeAtomic(files.pid, `${process.pid}\n`);
  writeAtomic(files.info, `${JSON.stringify({ port: adminPort, pid: process.pid })}\n`);
  console.log(
    `router ${process.pid} serving on ${values.host}:${values.port}, admin on 127.0.0.1:${adminPort}`,
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`router: ${signal}, finishing requests in flight`);
  admin.close();
  await server.close(Number(values["grace-ms"]));
  proxy.pools.closeAll();
  await proxy.shadow.close();
  // A stale admin.json would make the control plane wait on a router that is gone.
  if (readAdminInfo(files)?.pid === process.pid) rmSync(files.info, { force: true });
  process.exit(0);
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
start().catch((error: Error) => {
  console.error(`router: cannot start: ${error.message}`);
  process.exit(1);
});
