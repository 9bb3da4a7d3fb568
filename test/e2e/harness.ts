import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Agent, request } from "undici";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const gantryBin = join(repoRoot, "packages/gantry/bin/gantry");
export const demoApp = join(repoRoot, "examples/demo-app");

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `gantry` CLI. */
export function gantry(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(gantryBin, [...args, ...(args[0] === "up" ? [] : ["--data-dir", dataDir])], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

export interface RunningGantry {
  dataDir: string;
  apiUrl: string;
  routerUrl: string;
  routerPort: number;
  adminPort: number;
  process: ChildProcess;
  output: () => string;
  /** Ctrl-C, and wait for exit. */
  interrupt(): Promise<number>;
  /** SIGKILL the control plane only. */
  kill(): Promise<void>;
}

export interface UpOptions {
  dataDir?: string;
  config?: string;
  demo?: boolean;
  routerPort?: number;
  adminPort?: number;
}

/** `gantry up` on free ports in a fresh data dir; resolves once the API answers. */
export async function up(options: UpOptions = {}): Promise<RunningGantry> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "gantry-e2e-"));
  const routerPort = options.routerPort ?? (await freePort());
  const adminPort = options.adminPort ?? (await freePort());
  const args = [
    "up",
    "--data-dir",
    dataDir,
    "--api-port",
    "0",
    "--router-port",
    String(routerPort),
    "--router-admin-port",
    String(adminPort),
  ];
  if (options.config) {
    const file = join(dataDir, "..", `${dataDir.split("/").pop()}.gantry.yaml`);
    writeFileSync(file, options.config);
    args.push("--config", file);
  }
  if (options.demo) args.push("--demo");
  const apiFile = join(dataDir, "api.json");
  const before = existsSync(apiFile) ? readFileSync(apiFile, "utf8") : "";
  const child = spawn(gantryBin, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number>((r) =>
    child.on("exit", (code, signal) => r(code ?? (signal ? 128 : -1))),
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gantry up exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`gantry up did not start:\n${output}`);
    if (existsSync(apiFile) && readFileSync(apiFile, "utf8") !== before && output.includes("Gantry is up"))
      break;
    await sleep(50);
  }
  const apiUrl = JSON.parse(readFileSync(apiFile, "utf8")).url as string;
  return {
    dataDir,
    apiUrl,
    routerUrl: `http://127.0.0.1:${routerPort}`,
    routerPort,
    adminPort,
    process: child,
    output: () => output,
    async interrupt() {
      child.kill("SIGINT");
      return exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

export interface Sample {
  at: number;
  /** From sending to the whole answer read, in ms. */
  latencyMs: number;
  post: boolean;
  status: number;
  version: string | null;
  error: string | null;
  retryAfter: string | null;
}

/** Sends requests at a constant rate over keep-alive connections and records every outcome. */
export function constantLoad(options: {
  url: string;
  host: string;
  rps: number;
  path?: string;
  postEvery?: number;
  /** Headers each request carries, e.g. a user key; a function gets the request's number. */
  headers?: (n: number) => Record<string, string>;
}) {
  const samples: Sample[] = [];
  const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 30_000, pipelining: 1 });
  const pending = new Set<Promise<void>>();
  const intervalMs = 10;
  const perTick = options.rps / (1000 / intervalMs);
  let credit = 0;
  let sent = 0;
  const one = async () => {
    const at = Date.now();
    const started = performance.now();
    sent += 1;
    // Every Nth request is a write: it cannot be replayed, so it fails if an instance leaves too early.
    const post = options.postEvery !== undefined && sent % options.postEvery === 0;
    try {
      const response = await request(`${options.url}${post ? "/items" : (options.path ?? "/")}`, {
        dispatcher,
        method: post ? "POST" : "GET",
        body: post ? JSON.stringify({ name: `load-${sent}` }) : null,
        headers: {
          host: options.host,
          ...options.headers?.(sent),
          ...(post && { "content-type": "application/json" }),
        },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await response.body.text();
      const version = response.headers["x-demo-version"];
      const retry = response.headers["retry-after"];
      samples.push({
        at,
        latencyMs: performance.now() - started,
        post,
        status: response.statusCode,
        version: typeof version === "string" ? version : null,
        error: null,
        retryAfter: typeof retry === "string" ? retry : null,
      });
    } catch (error) {
      samples.push({
        at,
        latencyMs: performance.now() - started,
        post,
        status: 0,
        version: null,
        error: (error as Error).message,
        retryAfter: null,
      });
    }
  };
  const timer = setInterval(() => {
    credit += perTick;
    while (credit >= 1) {
      credit -= 1;
      const p = one().finally(() => pending.delete(p));
      pending.add(p);
    }
  }, intervalMs);
  return {
    samples,
    async stop(): Promise<Sample[]> {
      clearInterval(timer);
      await Promise.all(pending);
      await dispatcher.close();
      return samples;
    },
  };
}

export function failures(samples: Sample[], allow: (s: Sample) => boolean = () => false): Sample[] {
  return samples.filter((s) => (s.error !== null || s.status < 200 || s.status >= 300) && !allow(s));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `gantry deploy web --artifact examples/demo-app --version V [--env KEY=VALUE]... --wait`. */
export function deployWeb(g: RunningGantry, version: string, ...env: string[]): Promise<CliResult> {
  const args = ["deploy", "web", "--artifact", demoApp, "--version", version];
  for (const e of env) args.push("--env", e);
  return gantry(g.dataDir, [...args, "--wait"]);
}

/**
 * `web` v1 deployed on a running Gantry, then a constant load on it: where most rollout tests
 * start. `status` reads `gantry status web --json`.
 */
export async function liveWebUnderLoad(g: RunningGantry, rps: number) {
  const first = await deployWeb(g, "v1");
  if (first.code !== 0) throw new Error(`deploying web v1 failed (exit ${first.code}):\n${first.stderr}`);
  const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps });
  return { g, load, status: () => webStatus(g) };
}

/** `gantry status web --json`: the service's report. */
export async function webStatus(g: RunningGantry) {
  return JSON.parse((await gantry(g.dataDir, ["status", "web", "--json"])).stdout).services[0];
}

/** A gantry.yaml declaring the demo app as service `web` with quick health checks and one shared item store. */
export function webConfig(strategy: string, extra = ""): string {
  const db = join(mkdtempSync(join(tmpdir(), "gantry-e2e-db-")), "items.sqlite");
  return `services:
  web:
    command: node server.ts
    env: { DEMO_DB: ${db} }
    instances: 2
    route: { hosts: [web.localhost], default: true }
    healthCheck: { path: /healthz, interval: 200ms, timeout: 1s, deadline: 15s }
    stopTimeout: 5s
    strategy: ${strategy}
${extra}`;
}
