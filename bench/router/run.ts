// npm run bench:router [-- --profile] [-- --seconds N] [-- --connections N]
// Gantry's router against nginx and HAProxy as plain reverse proxies, side by side in one run:
// the same upstream, the same wrk load, one core for the proxy under test. Prints requests/s,
// p50 and p99 at full load, p99 at half load and what each proxy adds to it, and as its last
// line the headline ratio against nginx.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { startGantryRouter } from "./gantry-router.ts";
import { haproxyArgs, installPeers, nginxProxyArgs, nginxUpstreamArgs } from "./peers.ts";
import { cpuSeconds, freePort, NoiseMeter, PinnedProcesses, waitForHttp } from "./processes.ts";
import { summariseProfile } from "./profile-summary.ts";
import { measureStalls } from "./stalls.ts";
import { type WrkResult, wrkAtRate, wrkMax } from "./wrk.ts";

const { values: flags } = parseArgs({
  options: {
    profile: { type: "boolean", default: false },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
  },
});
const seconds = Number(flags.seconds);
const warmupSeconds = 2;
const halfLoadSeconds = Math.max(3, Math.round(seconds / 2));
/**
 * Each half-load measurement is taken this many times and the lowest p99 kept, for every
 * target alike: a virtual machine's pauses (see stalls.ts) come and go, and one that lands in
 * a run sets its p99 whatever the proxy does.
 */
const halfLoadAttempts = 3;
const connections = Number(flags.connections);
// wrk and the upstream share core 0; the proxy under test has core 1 to itself.
const clientCpu = 0;
const proxyCpu = 1;
/** Other processes using more CPU than this (in cores) during a measurement make it noisy. */
const noiseLimit = 0.1;
/** A noisy measurement is taken once more only while the bench is younger than this. */
const retryForSeconds = 100;
const benchStarted = performance.now();

interface Target {
  name: string;
  port: number;
  /** The process whose CPU use is reported: the proxy, or the upstream for the direct run. */
  pid: number;
  /** False for the upstream measured directly. */
  proxy: boolean;
}

interface Row {
  target: Target;
  max: WrkResult;
  /** Share of one core the proxy (for the direct run: the upstream) used at full load. */
  busy: number;
  /** CPU (in cores) other processes on the machine used during the full-load run. */
  noise: number;
  /** The same during the half-load runs (this target's and the direct one at its rate), at most. */
  halfNoise: number;
  half?: WrkResult;
  /** The upstream alone at the same rate as this proxy's half load. */
  directAtHalf?: WrkResult;
}

const ms = (n: number): string => n.toFixed(2);
const pct = (share: number): string => `${(100 * share).toFixed(0)}%`;

function versions(): string {
  // `wrk -v` exits 1 and nginx prints to stderr: take the first line of either, whatever the status.
  const first = (command: string): string =>
    execFileSync("sh", ["-c", `${command} 2>&1 | head -n 1; true`], { encoding: "utf8" })
      .trim()
      .replace(/ Copyright.*$| - https.*$/, "");
  return [`node ${process.version}`, first("nginx -v"), first("haproxy -v"), first("wrk -v")].join("; ");
}

/** The commit the router is measured at, and whether its folder has uncommitted changes. */
function routerRevision(): string {
  const cwd = new URL("../..", import.meta.url).pathname;
  const git = (args: string[]): string => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
  try {
    const head = git(["rev-parse", "--short", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--", "packages/gantry/src/router"]) !== "";
    return `router at ${head}${dirty ? " with uncommitted changes in packages/gantry/src/router" : ""}`;
  } catch {
    return "router revision unknown (not a git checkout)";
  }
}

/** Starts the upstream and the three proxies; returns the targets, direct first. */
async function startTargets(processes: PinnedProcesses, work: string): Promise<Target[]> {
  const port = { upstream: 0, gantry: 0, admin: 0, nginx: 0, haproxy: 0 };
  for (const key of Object.keys(port) as (keyof typeof port)[]) port[key] = await freePort();
  const upstream = processes.start("upstream", clientCpu, "nginx", nginxUpstreamArgs(work, port.upstream));
  const nginx = processes.start("nginx", proxyCpu, "nginx", nginxProxyArgs(work, port.nginx, port.upstream));
  const haproxy = processes.start(
    "haproxy",
    proxyCpu,
    "haproxy",
    haproxyArgs(work, port.haproxy, port.upstream),
  );
  const gantry = await startGantryRouter({
    processes,
    cpu: proxyCpu,
    dataDir: join(work, "gantry"),
    port: port.gantry,
    adminPort: port.admin,
    upstreamPort: port.upstream,
    nodeFlags: flags.profile ? ["--cpu-prof", "--cpu-prof-dir", join(work, "profile")] : [],
  });
  for (const p of [port.upstream, port.gantry, port.nginx, port.haproxy]) await waitForHttp(p);
  return [
    { name: "direct (upstream, no proxy)", port: port.upstream, pid: upstream.pid!, proxy: false },
    { name: "gantry router", port: port.gantry, pid: gantry, proxy: true },
    { name: "nginx", port: port.nginx, pid: nginx.pid!, proxy: true },
    { name: "haproxy", port: port.haproxy, pid: haproxy.pid!, proxy: true },
  ];
}

/**
 * Runs a measurement, and again while the bench has time when other processes used the
 * machine meanwhile; keeps the quieter attempt.
 */
async function quietest<T>(label: string, measure: () => Promise<T>): Promise<{ result: T; noise: number }> {
  let best: { result: T; noise: number } | undefined;
  for (let attempt = 1; ; attempt++) {
    const meter = new NoiseMeter();
    const result = await measure();
    const noise = meter.cores();
    if (!best || noise < best.noise) best = { result, noise };
    const late = (performance.now() - benchStarted) / 1000 > retryForSeconds;
    if (best.noise <= noiseLimit || attempt >= 2 || late) return best;
    console.log(`  (other processes used ${noise.toFixed(2)} cores during ${label}: measuring again)`);
  }
}

async function fullLoad(target: Target): Promise<Row> {
  const o = { url: `http://127.0.0.1:${target.port}/`, cpu: clientCpu, connections };
  await wrkMax({ ...o, seconds: warmupSeconds });
  const { result, noise } = await quietest(target.name, async () => {
    const cpuBefore = cpuSeconds(target.pid);
    const started = performance.now();
    const max = await wrkMax({ ...o, seconds });
    return { max, busy: (cpuSeconds(target.pid) - cpuBefore) / ((performance.now() - started) / 1000) };
  });
  const { max, busy } = result;
  console.log(
    `  ${target.name.padEnd(28)} ${max.rps.toFixed(0).padStart(7)} req/s  its cpu ${pct(busy).padStart(4)}  ` +
      `noise ${noise.toFixed(2)} cores  p50 ${ms(max.p50Ms)} ms  p99 ${ms(max.p99Ms)} ms` +
      (max.errors ? `  ${max.errors} errors` : ""),
  );
  return { target, max, busy, noise, halfNoise: 0 };
}

async function halfLoad(rows: Row[], wrk2: boolean, work: string): Promise<void> {
  const paced = async (row: Row, target: Target, rate: number): Promise<WrkResult> => {
    const o = {
      url: `http://127.0.0.1:${target.port}/`,
      cpu: clientCpu,
      connections,
      seconds: halfLoadSeconds,
    };
    let best: { result: WrkResult; noise: number } | undefined;
    for (let attempt = 0; attempt < halfLoadAttempts; attempt++) {
      const run = await quietest(`${target.name} at ${rate.toFixed(0)}/s`, () =>
        wrkAtRate({ ...o, rate, wrk2, workDir: work }),
      );
      if (!best || run.result.p99Ms < best.result.p99Ms) best = run;
    }
    row.halfNoise = Math.max(row.halfNoise, best!.noise);
    return best!.result;
  };
  const direct = rows[0]!;
  for (const row of rows) {
    const rate = row.max.rps / 2;
    row.half = await paced(row, row.target, rate);
    if (row !== direct) row.directAtHalf = await paced(row, direct.target, rate);
    console.log(
      `  ${row.target.name.padEnd(28)} at ${rate.toFixed(0).padStart(6)}/s (achieved ${row.half.rps.toFixed(0)}): ` +
        `p99 ${ms(row.half.p99Ms)} ms` +
        (row.directAtHalf
          ? `; direct at that rate (achieved ${row.directAtHalf.rps.toFixed(0)}): p99 ${ms(row.directAtHalf.p99Ms)} ms`
          : ""),
    );
  }
}

function printTable(rows: Row[]): void {
  console.log(
    "\n| target | req/s | its CPU | noise | p50 ms | p99 ms | half-load rate (achieved) | p99 at half load ms | added p99 vs direct ms | noise |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    const errors = row.max.errors + (row.half?.errors ?? 0) > 0 ? " (errors!)" : "";
    const added = row.directAtHalf
      ? `${ms(row.half!.p99Ms - row.directAtHalf.p99Ms)} (direct ${ms(row.directAtHalf.p99Ms)})`
      : "-";
    const cells = [
      `${row.target.name}${errors}`,
      row.max.rps.toFixed(0),
      pct(row.busy),
      row.noise.toFixed(2),
      ms(row.max.p50Ms),
      ms(row.max.p99Ms),
      `${(row.max.rps / 2).toFixed(0)} (${row.half!.rps.toFixed(0)})`,
      ms(row.half!.p99Ms),
      added,
      row.halfNoise.toFixed(2),
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
}

async function main(processes: PinnedProcesses, work: string): Promise<string> {
  const { wrk2 } = installPeers();
  // This script itself (idle while wrk runs) stays off the proxy's core too.
  execFileSync("taskset", ["-a", "-p", "-c", String(clientCpu), String(process.pid)], { stdio: "ignore" });
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}); ${versions()}`);
  console.log(routerRevision());
  const meter = new NoiseMeter();
  await sleep(1000);
  const before = meter.cores();
  if (before > noiseLimit)
    console.log(
      `warning: other processes use ${before.toFixed(2)} cores of this machine: figures will be noisy`,
    );
  console.log(`work directory: ${work}`);

  const targets = await startTargets(processes, work);
  console.log(`\nfull load: wrk -t1 -c${connections}, ${warmupSeconds} s warm-up then ${seconds} s each`);
  const rows: Row[] = [];
  for (const target of targets) rows.push(await fullLoad(target));

  const how = wrk2
    ? "wrk2 -R (fixed rate, latency from each request's scheduled time)"
    : "wrk2 is not in Debian: wrk paced by a Lua delay() per connection (closed loop, p99 is a lower bound)";
  const stalls = await measureStalls([clientCpu, proxyCpu]);
  console.log(
    `\nmachine stalls: with both cores busy, a core was kept from running for up to ${ms(stalls.worstMs)} ms, ` +
      `${(100 * stalls.share).toFixed(2)}% of the time in pauses over 0.5 ms (the floor under every p99 below)`,
  );
  console.log(
    `\nhalf load: each target at half its own max, ${halfLoadSeconds} s, the lowest p99 of ${halfLoadAttempts} runs, ${how}`,
  );
  await halfLoad(rows, wrk2, work);

  printTable(rows);
  console.log(
    "its CPU: share of one core the proxy (direct: the upstream) used at full load. noise: cores' worth of CPU other processes on the machine used meanwhile (full load, then half load; the quieter of up to 2 attempts; at half load, that of the run kept).",
  );
  console.log(
    "added p99 vs direct: the proxy's p99 at half its max rate minus the upstream's own p99 at that same rate (each the lowest of its runs).",
  );
  const [, gantry, nginx, haproxy] = rows as [Row, Row, Row, Row];
  console.log(`gantry/haproxy throughput: ${(gantry.max.rps / haproxy.max.rps).toFixed(2)}`);
  if (rows.some((r) => r.max.errors + (r.half?.errors ?? 0) > 0))
    console.log("warning: some runs had socket errors or non-2xx answers (marked above)");
  if (rows.some((r) => Math.max(r.noise, r.halfNoise) > noiseLimit))
    console.log(
      "warning: other processes used the machine during some runs (noise column); rerun on a quiet machine",
    );

  if (stalls.worstMs > 1)
    console.log(
      `warning: this machine stops busy cores for up to ${ms(stalls.worstMs)} ms (${(100 * stalls.share).toFixed(2)}% of the time): ` +
        "p99s at half load include such pauses and cannot show a difference under a millisecond here",
    );

  if (flags.profile) {
    await processes.stopAll();
    const dir = join(work, "profile");
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    console.log(
      file
        ? `\nrouter CPU profile ${join(dir, file)}:\n${summariseProfile(join(dir, file))}`
        : "\nno CPU profile was written",
    );
    console.log("(profiling slows the router: take the ratios from a run without --profile)");
  }
  const added = gantry.half!.p99Ms - gantry.directAtHalf!.p99Ms;
  return (
    `gantry/nginx throughput: ${(gantry.max.rps / nginx.max.rps).toFixed(2)} (target >= 0.5), ` +
    `gantry added p99 at half load: ${ms(added)} ms (target < 1 ms)`
  );
}

const work = await mkdtemp(join(tmpdir(), "gantry-bench-router-"));
const processes = new PinnedProcesses(work);
process.on("exit", () => processes.signalAllNow());
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    void processes.stopAll().finally(() => process.exit(130));
  });
try {
  const headline = await main(processes, work);
  await processes.stopAll();
  // Configs and logs are kept when something failed, or for the profile.
  if (!flags.profile) await rm(work, { recursive: true, force: true });
  console.log(headline);
} catch (error) {
  await processes.stopAll();
  console.error(error);
  console.error(`configs and logs kept in ${work}`);
  process.exitCode = 1;
}
