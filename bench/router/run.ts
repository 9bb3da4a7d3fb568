// npm run bench:router [-- --profile]
// Gantry's router against nginx and HAProxy as plain reverse proxies, side by side in one run:
// the same upstream, the same wrk load, one core for the proxy under test. Prints requests/s,
// p50 and p99 at full load, p99 at half load and what each proxy adds to it, and as its last
// line the headline ratio against nginx.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { startGantryRouter } from "./gantry-router.ts";
import { haproxyArgs, installPeers, nginxProxyArgs, nginxUpstreamArgs } from "./peers.ts";
import { cpuSeconds, freePort, PinnedProcesses, waitForHttp } from "./processes.ts";
import { summariseProfile } from "./profile-summary.ts";
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
const connections = Number(flags.connections);
// wrk and the upstream share core 0; the proxy under test has core 1 to itself.
const clientCpu = 0;
const proxyCpu = 1;

interface Target {
  name: string;
  port: number;
  /** The process whose CPU use is reported: the proxy, or the upstream for the direct run. */
  pid: number;
}

interface Row {
  target: Target;
  max: WrkResult;
  /** Share of one core the proxy (or, direct, the upstream) used during the full-load run. */
  busy: number;
  half?: WrkResult;
  /** The upstream alone at the same rate as this proxy's half load. */
  directAtHalf?: WrkResult;
}

/** Share of the machine's CPU time not idle over one second, before anything starts. */
async function machineBusy(): Promise<number> {
  const read = (): number[] =>
    readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const before = read();
  await sleep(1000);
  const after = read();
  const delta = after.map((v, i) => v - before[i]!);
  const total = delta.reduce((a, b) => a + b, 0);
  return 1 - (delta[3]! + delta[4]!) / total;
}

function versions(): string {
  const first = (cmd: string, args: string[]): string =>
    execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
      .split("\n")[0]!
      .trim() || "?";
  const nginx = execFileSync("sh", ["-c", "nginx -v 2>&1"], { encoding: "utf8" }).trim();
  return [`node ${process.version}`, nginx, first("haproxy", ["-v"]), first("sh", ["-c", "wrk -v 2>&1"])]
    .map((v) => v.replace(/ Copyright.*$| - https.*$/, ""))
    .join("; ");
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

const ms = (n: number): string => n.toFixed(2);

function printTable(rows: Row[], rateNote: string): void {
  const direct = rows[0]!;
  console.log(
    `\n| target | req/s | proxy core busy | p50 ms | p99 ms | half-load rate (achieved) | p99 at half load ms | added p99 vs direct ms |`,
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    const flag = row.max.errors + (row.half?.errors ?? 0) > 0 ? " (errors!)" : "";
    const added =
      row === direct
        ? "-"
        : ms(row.half!.p99Ms - row.directAtHalf!.p99Ms) + ` (direct ${ms(row.directAtHalf!.p99Ms)})`;
    console.log(
      `| ${row.target.name}${flag} | ${row.max.rps.toFixed(0)} | ${(100 * row.busy).toFixed(0)}% | ${ms(row.max.p50Ms)} | ${ms(row.max.p99Ms)} | ${Math.round(row.max.rps / 2)} (${row.half!.rps.toFixed(0)}) | ${ms(row.half!.p99Ms)} | ${added} |`,
    );
  }
  console.log(rateNote);
}

async function main(processes: PinnedProcesses, work: string): Promise<string> {
  const { wrk2 } = installPeers();
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}); ${versions()}`);
  console.log(routerRevision());
  const busy = await machineBusy();
  if (busy > 0.1)
    console.log(
      `warning: the machine was ${(100 * busy).toFixed(0)}% busy before the bench; figures will be noisy`,
    );
  console.log(`work directory: ${work}`);

  const port = { upstream: 0, gantry: 0, admin: 0, nginx: 0, haproxy: 0 };
  for (const key of Object.keys(port) as (keyof typeof port)[]) port[key] = await freePort();

  const upstream = processes.start("upstream", clientCpu, "nginx", nginxUpstreamArgs(work, port.upstream));
  const nginx = processes.start(
    "nginx-proxy",
    proxyCpu,
    "nginx",
    nginxProxyArgs(work, port.nginx, port.upstream),
  );
  const haproxy = processes.start(
    "haproxy",
    proxyCpu,
    "haproxy",
    haproxyArgs(work, port.haproxy, port.upstream),
  );
  const profileDir = join(work, "profile");
  const gantryPid = await startGantryRouter({
    processes,
    cpu: proxyCpu,
    dataDir: join(work, "gantry"),
    port: port.gantry,
    adminPort: port.admin,
    upstreamPort: port.upstream,
    nodeFlags: flags.profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
  });
  for (const p of [port.upstream, port.gantry, port.nginx, port.haproxy]) await waitForHttp(p);

  const targets: Target[] = [
    { name: "direct (upstream, no proxy)", port: port.upstream, pid: upstream.pid! },
    { name: "gantry router", port: port.gantry, pid: gantryPid },
    { name: "nginx", port: port.nginx, pid: nginx.pid! },
    { name: "haproxy", port: port.haproxy, pid: haproxy.pid! },
  ];
  const base = { cpu: clientCpu, connections };
  const rows: Row[] = [];
  console.log(`\nfull load: wrk -t1 -c${connections}, ${warmupSeconds} s warm-up then ${seconds} s`);
  for (const target of targets) {
    const url = `http://127.0.0.1:${target.port}/`;
    await wrkMax({ ...base, url, seconds: warmupSeconds });
    const cpuBefore = cpuSeconds(target.pid);
    const started = performance.now();
    const max = await wrkMax({ ...base, url, seconds });
    const busy = (cpuSeconds(target.pid) - cpuBefore) / ((performance.now() - started) / 1000);
    rows.push({ target, max, busy });
    console.log(
      `  ${target.name.padEnd(28)} ${max.rps.toFixed(0).padStart(7)} req/s  core ${(100 * busy).toFixed(0).padStart(3)}%  p50 ${ms(max.p50Ms)} ms  p99 ${ms(max.p99Ms)} ms${max.errors ? `  ${max.errors} errors` : ""}`,
    );
  }

  const how = wrk2
    ? "wrk2 -R (fixed rate, latency from scheduled send)"
    : "wrk2 is not in Debian: wrk paced by a Lua delay() per connection, closed loop, so p99 is a lower bound";
  console.log(`\nhalf load: each target at half its own max, ${halfLoadSeconds} s, ${how}`);
  const paced = (target: Target, rate: number): Promise<WrkResult> =>
    wrkAtRate({
      ...base,
      url: `http://127.0.0.1:${target.port}/`,
      seconds: halfLoadSeconds,
      rate,
      wrk2,
      workDir: work,
    });
  for (const row of rows) {
    const rate = row.max.rps / 2;
    row.half = await paced(row.target, rate);
    if (row !== rows[0]) row.directAtHalf = await paced(rows[0]!.target, rate);
    console.log(
      `  ${row.target.name.padEnd(28)} at ${rate.toFixed(0).padStart(6)}/s (achieved ${row.half.rps.toFixed(0)}): p99 ${ms(row.half.p99Ms)} ms` +
        (row.directAtHalf ? `; direct at the same rate: p99 ${ms(row.directAtHalf.p99Ms)} ms` : ""),
    );
  }

  printTable(
    rows,
    "added p99 vs direct: the proxy's p99 at half its max rate minus the upstream's own p99 at that same rate.",
  );
  const [, gantry, nginxRow, haproxyRow] = rows as [Row, Row, Row, Row];
  console.log(`gantry/haproxy throughput: ${(gantry.max.rps / haproxyRow.max.rps).toFixed(2)}`);
  if (rows.some((r) => r.max.errors + (r.half?.errors ?? 0) > 0))
    console.log("warning: some runs had socket errors or non-2xx answers (marked above)");

  if (flags.profile) {
    await processes.stopAll();
    const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
    console.log(
      file
        ? `\nrouter CPU profile ${join(profileDir, file)}:\n${summariseProfile(join(profileDir, file))}`
        : "\nno CPU profile was written",
    );
    console.log("(profiling slows the router: compare ratios from a run without --profile)");
  }
  const added = gantry.half!.p99Ms - gantry.directAtHalf!.p99Ms;
  return `gantry/nginx throughput: ${(gantry.max.rps / nginxRow.max.rps).toFixed(2)} (target >= 0.5), gantry added p99 at half load: ${ms(added)} ms (target < 1 ms)`;
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
  console.log(headline);
} catch (error) {
  await processes.stopAll();
  console.error(error);
  process.exitCode = 1;
}
