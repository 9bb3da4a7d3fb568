// npm run bench:flags:ofrep — OFREP bulk evaluation against a real Gantry: 100 flags, each
// with a constraint and a sticky 50% rollout, evaluated for a different user per request at
// a paced 1,000 requests/s. Latency is measured open-loop, from when each request was due
// (a stall shows up in the tail). In the same run, alternating with Gantry, a bare node:http
// server answering the same bytes gives the floor this machine allows. Prints the figures,
// and as its last line the headline.
// `runOfrepBench()` returns them for bench/flags/run.ts.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, getPriority, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, NoiseMeter, waitForOtherBenchmarks } from "../router/processes.ts";
import { FLAG_COUNT, gantryBody, users } from "./flag-sets.ts";
import { RawHttpClient } from "./raw-http-client.ts";

export interface OfrepBenchOptions {
  /** Requests per second asked for (default 1000). */
  rate?: number;
  /** Measured seconds (default 10; BENCH_SECONDS). */
  seconds?: number;
  /** Seconds at the same rate before measuring (default 3). */
  warmupSeconds?: number;
}

export interface OfrepBenchResult {
  flags: number;
  rate: number;
  seconds: number;
  requests: number;
  /** Requests answered per second over the measured part. */
  achievedRate: number;
  /** Milliseconds from when each request was due to its whole answer. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Requests not answered 200 with every flag. */
  errors: number;
  /** Share of requests slower than the 5 ms target. */
  slowShare: number;
  /** How many of the run's 100 ms windows held such a request: few means stalls, many means steady queueing. */
  slowWindows: number;
  /** The same figures for a bare `node:http` server answering the same bytes, measured alternately in the same run. */
  floorP50: number;
  floorP99: number;
  floorP999: number;
  /** Gantry's CPU (its API process) per request, in microseconds. */
  serverCpuMicros: number;
  /** The load generator's CPU (this process) per request, in microseconds. */
  clientCpuMicros: number;
  /** CPU other processes used meanwhile, in cores: above ~0.2 the figures are not to be trusted. */
  noiseCores: number;
  /** The headline: p99 against the 5 ms target, and the achieved rate. */
  headline: string;
}

const repoRoot = resolve(import.meta.dirname, "../..");
const gantryBin = join(repoRoot, "packages/gantry/bin/gantry");
const TARGET_P99_MS = 5;

/**
 * The workload of bench/flags/run.ts (flag-sets.ts): 100 flags, each a constraint (country
 * in DK, SE, NO) with a sticky 50% rollout behind it, and 1000 users, half of them in one of
 * those countries. The flags are the ones the SDK benchmark serves, applied to a real Gantry.
 */
function benchDocument(): unknown {
  return { flags: (JSON.parse(gantryBody()) as { flagSet: { flags: unknown } }).flagSet.flags };
}

/** Each request's body: the next user's context, prepared once. */
const bodies = users.map((u) => JSON.stringify({ context: { targetingKey: u.id, country: u.country } }));

export async function runOfrepBench(options: OfrepBenchOptions = {}): Promise<OfrepBenchResult> {
  const rate = options.rate ?? 1000;
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 10);
  const warmupSeconds = options.warmupSeconds ?? 3;
  const flagCount = FLAG_COUNT;
  const gantry = await startGantry();
  let floor: FloorServer | undefined;
  try {
    const token = await setUp(gantry.apiUrl, gantry.adminToken);
    const pool = new RawHttpClient(gantry.apiUrl, 64);
    const head = `POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: ${new URL(gantry.apiUrl).host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: `;
    // The floor: a bare Node server in its own process answering the same bytes Gantry does.
    const sample = await pool.send(`${head}${bodies[0]!.length}\r\n\r\n${bodies[0]}`);
    floor = await startFloor(sample.body.toString());
    const floorPool = new RawHttpClient(floor.url, 64);
    const floorHead = `POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: ${new URL(floor.url).host}\r\nContent-Type: application/json\r\nContent-Length: `;
    try {
      await paced(pool, head, rate, warmupSeconds, flagCount);
      await paced(floorPool, floorHead, rate, 1, flagCount);
      let serverCpu = 0;
      let clientCpu = 0;
      const noise = new NoiseMeter();
      const gantryRuns: Awaited<ReturnType<typeof paced>>[] = [];
      const floorRuns: Awaited<ReturnType<typeof paced>>[] = [];
      // Alternating halves, so both see the same machine.
      for (let half = 0; half < 2; half++) {
        const cpuBefore = processCpuSeconds(gantry.pid);
        const clientBefore = process.cpuUsage();
        gantryRuns.push(await paced(pool, head, rate, seconds / 2, flagCount));
        serverCpu += processCpuSeconds(gantry.pid) - cpuBefore;
        const client = process.cpuUsage(clientBefore);
        clientCpu += (client.user + client.system) / 1e6;
        floorRuns.push(await paced(floorPool, floorHead, rate, seconds / 2, flagCount));
      }
      // Gantry and the floor are children of this process: the meter counts only what runs outside.
      const noiseCores = noise.cores();
      const run = merge(gantryRuns);
      const floorRun = merge(floorRuns);
      const sorted = run.latencies.sort((a, b) => a - b);
      const floorSorted = floorRun.latencies.sort((a, b) => a - b);
      const p99 = quantile(sorted, 0.99);
      const floorP99 = quantile(floorSorted, 0.99);
      const achievedRate = run.answered / run.elapsedSeconds;
      const verdict = p99 < TARGET_P99_MS ? "met" : "MISSED";
      return {
        flags: flagCount,
        rate,
        seconds,
        requests: run.sent,
        achievedRate,
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99,
        p999: quantile(sorted, 0.999),
        max: sorted.at(-1) ?? Number.NaN,
        errors: run.errors + floorRun.errors,
        slowShare: sorted.filter((l) => l > TARGET_P99_MS).length / Math.max(1, sorted.length),
        slowWindows: run.slowWindows,
        floorP50: quantile(floorSorted, 0.5),
        floorP99,
        floorP999: quantile(floorSorted, 0.999),
        serverCpuMicros: (serverCpu / Math.max(1, run.answered)) * 1e6,
        clientCpuMicros: (clientCpu / Math.max(1, run.answered)) * 1e6,
        noiseCores: Math.max(0, noiseCores),
        headline: `OFREP bulk evaluation of ${flagCount} flags at ${rate} req/s: p99 ${p99.toFixed(2)} ms (target < ${TARGET_P99_MS} ms: ${verdict}; a bare Node server answering the same bytes in the same run: p99 ${floorP99.toFixed(2)} ms), achieved ${achievedRate.toFixed(0)} req/s, ${run.errors} errors`,
      };
    } finally {
      pool.close();
      floorPool.close();
    }
  } finally {
    await floor?.stop();
    await gantry.stop();
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function merge(runs: Awaited<ReturnType<typeof paced>>[]) {
  return {
    latencies: runs.flatMap((r) => r.latencies),
    slowWindows: runs.reduce((n, r) => n + r.slowWindows, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    answered: runs.reduce((n, r) => n + r.answered, 0),
    sent: runs.reduce((n, r) => n + r.sent, 0),
    elapsedSeconds: runs.reduce((n, r) => n + r.elapsedSeconds, 0),
  };
}

interface FloorServer {
  url: string;
  stop(): Promise<void>;
}

/** A `node:http` server in its own process that reads each request and answers `body`: what the machine allows. */
async function startFloor(body: string): Promise<FloorServer> {
  const code = `
    const { createServer } = await import("node:http");
    const body = Buffer.from(process.env.FLOOR_BODY);
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length }).end(body));
    });
    server.keepAliveTimeout = 600000;
    server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, FLOOR_BODY: body },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`the floor server exited (${code})`)));
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill();
      await exited;
    },
  };
}

interface RunningGantry {
  apiUrl: string;
  adminToken: string;
  pid: number;
  stop(): Promise<void>;
}

/** `gantry up` in a fresh data dir with production as its flag environment, on free ports. */
async function startGantry(): Promise<RunningGantry> {
  const dataDir = mkdtempSync(join(tmpdir(), "gantry-bench-ofrep-"));
  const config = join(dataDir, "..", `${dataDir.split("/").pop()}.gantry.yaml`);
  writeFileSync(config, "flags:\n  environments: [production]\n");
  const args = ["up", "--data-dir", dataDir, "--config", config, "--api-port", "0"];
  args.push("--router-port", String(await freePort()), "--router-admin-port", String(await freePort()));
  const child: ChildProcess = spawn(gantryBin, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GANTRY_LOG_LEVEL: "warn" },
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 30_000;
  while (!output.includes("Gantry is up")) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`gantry up did not start:\n${output}`);
    await sleep(50);
  }
  return {
    apiUrl: JSON.parse(readFileSync(join(dataDir, "api.json"), "utf8")).url,
    adminToken: readFileSync(join(dataDir, "token"), "utf8").trim(),
    pid: child.pid!,
    async stop() {
      child.kill("SIGINT");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(config, { force: true });
    },
  };
}

/** The flags, applied in one go, and an sdk token bound to production. */
async function setUp(apiUrl: string, admin: string): Promise<string> {
  const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
  const applied = await fetch(`${apiUrl}/api/v1/flag-set/apply`, {
    method: "POST",
    headers,
    body: JSON.stringify({ document: benchDocument(), reason: "bench" }),
  });
  if (!applied.ok)
    throw new Error(`applying the bench flags failed: ${applied.status} ${await applied.text()}`);
  const token = await fetch(`${apiUrl}/api/v1/tokens`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: "bench", role: "sdk", environment: "production" }),
  });
  if (!token.ok) throw new Error(`creating the sdk token failed: ${token.status} ${await token.text()}`);
  return ((await token.json()) as { token: string }).token;
}

/**
 * Bulk evaluations at a fixed rate, each for another user (so every one is evaluated: no
 * ETag, no 304), latency from the due time. Every answer's flag count is checked.
 */
async function paced(client: RawHttpClient, head: string, rate: number, seconds: number, flagCount: number) {
  const latencies: number[] = [];
  /** The 100 ms windows (by due time) in which some request took over the target. */
  const slowWindows = new Set<number>();
  let errors = 0;
  let answered = 0;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now();
  const inflight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const body = bodies[i % bodies.length]!;
    // From when it was due (a late send counts), or from when it was sent if that was a
    // little early (timers are not finer than a millisecond).
    const from = Math.min(due, performance.now());
    const request = client
      .send(`${head}${body.length}\r\n\r\n${body}`)
      .then(
        (answer) => {
          const latency = performance.now() - from;
          latencies.push(latency);
          if (latency > TARGET_P99_MS) slowWindows.add(Math.floor((due - start) / 100));
          answered += 1;
          if (answer.status !== 200 || countFlags(answer.body) !== flagCount) errors += 1;
        },
        () => {
          errors += 1;
        },
      )
      .finally(() => inflight.delete(request));
    inflight.add(request);
  }
  // An answer that never comes is an error, not a hang of the bench.
  await Promise.race([Promise.all(inflight), sleep(30_000)]);
  errors += inflight.size;
  return {
    latencies,
    slowWindows: slowWindows.size,
    errors,
    answered,
    sent: total,
    elapsedSeconds: (performance.now() - start) / 1000,
  };
}

const FLAG_START = Buffer.from('{"key":');

/** How many evaluations a bulk answer holds, without parsing it (the client shares the machine). */
function countFlags(body: Buffer): number {
  let count = 0;
  for (let at = body.indexOf(FLAG_START); at >= 0; at = body.indexOf(FLAG_START, at + 1)) count += 1;
  return count;
}

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** CPU seconds (user + system) of one process, not its children (the router runs apart). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

if (import.meta.main) {
  await waitForOtherBenchmarks();
  const result = await runOfrepBench();
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  process.stdout.write(
    [
      `flags ${result.flags}, asked ${result.rate} req/s for ${result.seconds} s (after a warm-up), ${result.requests} requests`,
      `latency from the due time: p50 ${ms(result.p50)}, p90 ${ms(result.p90)}, p99 ${ms(result.p99)}, p99.9 ${ms(result.p999)}, max ${ms(result.max)}`,
      `over ${TARGET_P99_MS} ms: ${(result.slowShare * 100).toFixed(2)}% of requests, in ${result.slowWindows} of ${result.seconds * 10} 100-ms windows`,
      `a bare node:http server answering the same bytes, alternating with Gantry: p50 ${ms(result.floorP50)}, p99 ${ms(result.floorP99)}, p99.9 ${ms(result.floorP999)}`,
      `CPU per request: Gantry ${result.serverCpuMicros.toFixed(0)} µs, the load generator ${result.clientCpuMicros.toFixed(0)} µs; other processes meanwhile: ${result.noiseCores.toFixed(2)} cores (${availableParallelism()} cores in all); niceness ${getPriority()}`,
      result.headline,
    ].join("\n") + "\n",
  );
}
