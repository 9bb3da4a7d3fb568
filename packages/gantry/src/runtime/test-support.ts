/**
 * Shared by this folder's tests only (not exported from index.ts): temporary data dirs,
 * a tiny HTTP server that reports its environment, and polling helpers.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allocatePort } from "./allocate-port.ts";
import { LocalRuntime, type LocalRuntimeOptions } from "./local-runtime.ts";
import { sleep } from "./process-table.ts";
import type { InstanceSpec } from "./runtime.ts";

const SERVER = `
import http from "node:http";
const server = http.createServer((req, res) => {
  if (req.url === "/hang") return;
  res.setHeader("content-type", "application/json");
  const keys = ["PORT", "GANTRY_SERVICE", "GANTRY_VERSION", "GANTRY_INSTANCE", "EXTRA", "SECRET_OF_PARENT"];
  res.end(JSON.stringify({ pid: process.pid, env: Object.fromEntries(keys.map((k) => [k, process.env[k]])) }));
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening on " + process.env.PORT));
process.on("SIGTERM", () => {
  if (process.env.IGNORE_TERM) return console.log("ignoring SIGTERM");
  console.log("graceful shutdown");
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
`;

export interface Sandbox {
  dir: string;
  dataDir: string;
  runtime(options?: Partial<LocalRuntimeOptions>): LocalRuntime;
  spec(overrides?: Partial<InstanceSpec>): Promise<InstanceSpec>;
  cleanup(): Promise<void>;
}

/** A temp dir holding server.mjs (the instances' cwd) and a data dir, and runtimes cleaned up after. */
export function createSandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "gantry-runtime-"));
  const dataDir = join(dir, "data");
  writeFileSync(join(dir, "server.mjs"), SERVER);
  const runtimes: LocalRuntime[] = [];
  let count = 0;
  return {
    dir,
    dataDir,
    runtime(options = {}) {
      const runtime = new LocalRuntime({ dataDir, ...options });
      runtimes.push(runtime);
      return runtime;
    },
    async spec(overrides = {}) {
      count += 1;
      return {
        id: `inst-${count}`,
        service: "demo",
        version: "v1",
        cwd: dir,
        command: `exec "${process.execPath}" server.mjs`,
        env: {},
        port: await allocatePort(),
        stopTimeoutMs: 3_000,
        ...overrides,
      };
    },
    async cleanup() {
      await new LocalRuntime({ dataDir }).stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function eventually<T>(
  read: () => Promise<T> | T,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await read();
      if (accept(value)) return value;
    } catch {
      // Not there yet (connection refused, file missing): try again.
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

export async function getJson(
  port: number,
  path = "/",
): Promise<{ pid: number; env: Record<string, string> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
  return (await response.json()) as { pid: number; env: Record<string, string> };
}
