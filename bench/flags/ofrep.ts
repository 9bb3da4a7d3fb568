// npm run bench:flags:ofrep — OFREP bulk evaluation against a real Gantry: 100 flags, each
// with a constraint and a sticky 50% rollout, evaluated for a different user per request at
// a paced 1,000 requests/s. Latency is measured open-loop, from when each request was due
// (a stall shows up in the tail). Prints the figures, and as its last line the headline.
// `runOfrepBench()` returns them for bench/flags/run.ts.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, NoiseMeter } from "../router/processes.ts";
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
  try {
    const token = await setUp(gantry.apiUrl, gantry.adminToken);
    const pool = new RawHttpClient(gantry.apiUrl, 64);
    const head = `POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: ${new URL(gantry.apiUrl).host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: `;
    try {
      await paced(pool, head, rate, warmupSeconds, flagCount);
      const cpuBefore = processCpuSeconds(gantry.pid);
      const clientBefore = process.cpuUsage();
      const noise = new NoiseMeter();
      const run = await paced(pool, head, rate, seconds, flagCount);
      // Gantry is a child of this process: the meter counts only what runs outside both.
      const noiseCores = noise.cores();
      const serverCpu = processCpuSeconds(gantry.pid) - cpuBefore;
      const client = process.cpuUsage(clientBefore);
      const sorted = run.latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
      const p99 = at(0.99);
      const achievedRate = run.answered / run.elapsedSeconds;
      const verdict = p99 < TARGET_P99_MS ? "met" : "MISSED";
      return {
        flags: flagCount,
        rate,
        seconds,
        requests: run.sent,
        achievedRate,
        p50: at(0.5),
        p90: at(0.9),
        p99,
        p999: at(0.999),
        max: sorted.at(-1) ?? Number.NaN,
        errors: run.errors,
        slowShare: sorted.filter((l) => l > TARGET_P99_MS).length / Math.max(1, sorted.length),
        slowWindows: run.slowWindows,
        serverCpuMicros: (serverCpu / Math.max(1, run.answered)) * 1e6,
        clientCpuMicros: (client.user + client.system) / Math.max(1, run.answered),
        noiseCores: Math.max(0, noiseCores),
        headline: `OFREP bulk evaluation of ${flagCount} flags at ${rate} req/s: p99 ${p99.toFixed(2)} ms (target < ${TARGET_P99_MS} ms: ${verdict}), achieved ${achievedRate.toFixed(0)} req/s, ${run.errors} errors`,
      };
    } finally {
      pool.close();
    }
  } finally {
    await gantry.stop();
  }
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
  await Promise.all(inflight);
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

/** The machine is shared: never measure while another benchmark runs (bench/flags/run.ts does the same). */
async function waitForOtherBenchmarks(): Promise<void> {
  const mine = new Set<number>();
  for (let pid = process.pid; pid > 1 && !mine.has(pid); ) {
    mine.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  const others = () => {
    try {
      return execFileSync("pgrep", ["-fa", "bench/"], { encoding: "utf8" })
        .split("\n")
        .filter((line) => line !== "" && !mine.has(Number(line.split(" ")[0])));
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  };
  for (let waited = 0; others().length > 0; waited++) {
    if (waited === 0) console.log(`waiting for another benchmark to finish:\n  ${others().join("\n  ")}`);
    if (waited > 600) throw new Error("another benchmark has been running for 10 minutes; try later");
    await sleep(1000);
  }
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
      `CPU per request: Gantry ${result.serverCpuMicros.toFixed(0)} µs, the load generator ${result.clientCpuMicros.toFixed(0)} µs; other processes meanwhile: ${result.noiseCores.toFixed(2)} cores (2 cores in all)`,
      result.headline,
    ].join("\n") + "\n",
  );
}
