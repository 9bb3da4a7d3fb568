import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpRouterAdmin } from "./admin-client.ts";
import { defaultMaintenancePage, type RouterPolicy, type ServiceRoute } from "./policy.ts";

/**
 * For tests: the real router process on free ports, real upstreams, and policy builders.
 * Everything started is registered in `cleanups`, which the test runs afterwards.
 */
export type Cleanups = (() => unknown)[];

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startRouter(cleanups: Cleanups, extraArgs: string[] = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "router-"));
  const port = await freePort();
  const adminPort = await freePort();
  const script = join(import.meta.dirname, "router-process.ts");
  const args = ["--data-dir", dataDir, "--port", String(port), "--admin-port", String(adminPort)];
  const child = spawn(process.execPath, [script, ...args, ...extraArgs], { stdio: "ignore" });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.once("exit", () => r());
        child.kill("SIGKILL");
      }),
  );
  const info = join(dataDir, "router", "admin.json");
  const ready = () => existsSync(info) && JSON.parse(readFileSync(info, "utf8")).pid === child.pid;
  for (let i = 0; i < 400 && !ready(); i++) await sleep(25);
  const token = readFileSync(join(dataDir, "router", "admin.token"), "utf8").trim();
  const admin = new HttpRouterAdmin({ port: adminPort, token });
  cleanups.push(() => admin.close());
  return { url: `http://127.0.0.1:${port}`, port, admin, child, dataDir };
}

/** A node:http upstream answering with `handler`, and the sockets it has open right now. */
export async function startUpstream(
  cleanups: Cleanups,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ port: number; server: Server; openSockets: () => number }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  let open = 0;
  server.on("connection", (socket) => {
    open += 1;
    socket.on("close", () => (open -= 1));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { port: (server.address() as { port: number }).port, server, openSockets: () => open };
}

export function route(service: string, over: Partial<ServiceRoute>): ServiceRoute {
  return {
    service,
    hosts: [],
    pathPrefix: "/",
    isDefault: false,
    mode: "normal",
    maintenance: defaultMaintenancePage,
    backends: [],
    ...over,
  };
}

/** A one-service policy sending everything to the given instances (one version, v1). */
export function onePolicy(revision: number, ...ports: number[]): RouterPolicy {
  const instances = ports.map((port, i) => ({ id: `i${i}-${port}`, host: "127.0.0.1", port }));
  return { revision, services: [route("web", { backends: [{ version: "v1", weight: 1, instances }] })] };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
