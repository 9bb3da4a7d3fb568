import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { ServerSpec } from "./config/index.ts";
import { GantryError } from "./errors/index.ts";
import { HttpRouterAdmin, type RouterAdmin } from "./router/index.ts";
import { Watchdog } from "./router/watchdog.ts";

export interface RouterConnection {
  admin: RouterAdmin;
  port: number;
  /** Called after the router process had to be started again (it lost its policy only if its file is gone). */
  onRestart(listener: () => void): void;
  /** Stops watching the router; the router process keeps running. */
  close(): void;
  /** SIGTERM to the router (it finishes in-flight requests), SIGKILL if it does not exit. */
  stopProcess(): Promise<void>;
}

const routerScript = fileURLToPath(new URL("./router/router-process.ts", import.meta.url));
const watchMs = 1000;

/**
 * The router is its own detached process so that user traffic outlives the control plane.
 * This finds the one already running for this data dir (after a restart of the control
 * plane) or starts it, and starts it again if it ever dies.
 */
export async function connectRouter(options: {
  dataDir: string;
  server: ServerSpec;
  log: Logger;
}): Promise<RouterConnection> {
  const dir = `${options.dataDir}/router`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let current = await attach(dir);
  if (!current) current = await start(dir, options.server, options.log);
  const listeners: (() => void)[] = [];
  const watchdog = new Watchdog({
    everyMs: watchMs,
    check: () => current!.admin.healthy(),
    restart: async () => {
      try {
        options.log.warn("the router is not answering; starting it again");
        current = (await attach(dir)) ?? (await start(dir, options.server, options.log));
        for (const listener of listeners) listener();
      } catch (error) {
        options.log.error({ err: error }, "could not start the router");
      }
    },
  });
  const admin: RouterAdmin = {
    putPolicy: (p) => current!.admin.putPolicy(p),
    getPolicy: () => current!.admin.getPolicy(),
    inflight: () => current!.admin.inflight(),
    metrics: () => current!.admin.metrics(),
    breakers: () => current!.admin.breakers(),
    shadow: () => current!.admin.shadow(),
    healthy: () => current!.admin.healthy(),
  };
  return {
    admin,
    port: options.server.routerPort,
    onRestart: (listener) => listeners.push(listener),
    close: () => void watchdog.stop(),
    stopProcess: async () => {
      // A restart under way finishes first, so the router it started is the one stopped here.
      await watchdog.stop();
      const pid = current!.pid;
      if (!alive(pid)) return;
      process.kill(pid, "SIGTERM");
      if (!(await waitFor(() => !alive(pid), 15_000))) process.kill(pid, "SIGKILL");
      await waitFor(() => !alive(pid), 5_000);
    },
  };
}

interface Attached {
  pid: number;
  admin: HttpRouterAdmin;
}

async function attach(dir: string): Promise<Attached | undefined> {
  const info = readAdminInfo(dir);
  if (!info || !alive(info.pid) || !existsSync(`${dir}/admin.token`)) return undefined;
  const admin = new HttpRouterAdmin({
    port: info.port,
    token: readFileSync(`${dir}/admin.token`, "utf8").trim(),
  });
  return (await admin.healthy().catch(() => false)) ? { pid: info.pid, admin } : undefined;
}

async function start(dir: string, server: ServerSpec, log: Logger): Promise<Attached> {
  const out = openSync(`${dir}/router.log`, "a");
  const child = spawn(
    process.execPath,
    [
      routerScript,
      "--data-dir",
      dir.slice(0, -"/router".length),
      "--port",
      String(server.routerPort),
      "--host",
      server.routerHost,
      "--admin-port",
      String(server.routerAdminPort),
    ],
    { detached: true, stdio: ["ignore", out, out] },
  );
  closeSync(out);
  child.unref();
  const pid = child.pid!;
  const ready = await waitFor(() => {
    const info = readAdminInfo(dir);
    return info !== undefined && info.pid === pid;
  }, 10_000);
  const attached = ready ? await attach(dir) : undefined;
  if (!attached) {
    const tail = existsSync(`${dir}/router.log`)
      ? readFileSync(`${dir}/router.log`, "utf8").slice(-2000)
      : "";
    throw new GantryError(
      "UNAVAILABLE",
      `the router did not start (ports ${server.routerPort} and ${server.routerAdminPort} must be free; use --router-port to choose another):\n${tail}`,
    );
  }
  log.info({ pid, port: server.routerPort }, "router started");
  return attached;
}

function readAdminInfo(dir: string): { port: number; pid: number } | undefined {
  try {
    return JSON.parse(readFileSync(`${dir}/admin.json`, "utf8"));
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
