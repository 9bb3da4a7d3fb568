import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HttpRouterAdmin } from "./admin-client.ts";
import { ensureAdminToken, readAdminInfo, routerFiles } from "./router-files.ts";

const routerScript = fileURLToPath(new URL("./router-process.ts", import.meta.url));

export interface SpawnRouterOptions {
  dataDir: string;
  port: number;
  host: string;
  /** 0 picks a free port; read the chosen one from findRouter once it is ready. */
  adminPort: number;
  nodePath: string;
  /** stdout and stderr of the router, appended to (default DATA/router/router.log). */
  logFile?: string;
}

/**
 * Starts the router detached (own process group, no stdio tied to the caller) so that it
 * outlives the control plane, and returns its pid at once. It is ready when `findRouter`
 * returns it (admin.json written with this pid, /healthz answering).
 */
export function spawnRouter(o: SpawnRouterOptions): number {
  const files = routerFiles(o.dataDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  // The token exists before the router starts, so the caller can read it right away.
  ensureAdminToken(files);
  const out = openSync(o.logFile ?? files.log, "a", 0o600);
  const args = [routerScript, "--data-dir", o.dataDir, "--port", String(o.port), "--host", o.host];
  const child = spawn(o.nodePath, [...args, "--admin-port", String(o.adminPort)], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${o.nodePath} for the router`);
  return child.pid;
}

export interface RunningRouter {
  pid: number;
  adminPort: number;
  admin: HttpRouterAdmin;
}

/**
 * The router serving this data dir, if its process is alive and its admin API answers;
 * undefined otherwise (none started, gone, or not ready yet). Close `admin` when done.
 */
export async function findRouter(dataDir: string): Promise<RunningRouter | undefined> {
  const files = routerFiles(dataDir);
  const info = readAdminInfo(files);
  if (!info || !isAlive(info.pid)) return undefined;
  const admin = new HttpRouterAdmin({ port: info.port, token: ensureAdminToken(files) });
  if (await admin.healthy()) return { pid: info.pid, adminPort: info.port, admin };
  await admin.close();
  return undefined;
}

/** Polls findRouter until the router started with `pid` is ready, or `timeoutMs` passes. */
export async function waitForRouter(
  dataDir: string,
  pid: number,
  timeoutMs = 10_000,
): Promise<RunningRouter | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (readAdminInfo(routerFiles(dataDir))?.pid === pid) {
      const found = await findRouter(dataDir);
      if (found) return found;
    }
    if (!isAlive(pid)) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's; it still holds the ports.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
