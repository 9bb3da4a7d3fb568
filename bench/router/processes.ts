import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** A port nothing listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Resolves once `GET /` on the port answers 200 (on a fresh connection, not kept). */
export async function waitForHttp(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await new Promise<number>((resolve) => {
      get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", () => resolve(0));
    });
    if (status === 200) return;
    await sleep(50);
  }
  throw new Error(`nothing answers 200 on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/**
 * CPU seconds (user + system) used so far by a process and all its descendants, with the
 * children they have already reaped (a finished wrk counts in its parent's total).
 */
export function cpuSeconds(pid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
      const f = stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
      stats.set(Number(entry), { ppid: f[1]!, ticks: f[11]! + f[12]! + f[13]! + f[14]! });
    } catch {
      // The process ended while we looked.
    }
  }
  let ticks = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.pop()!;
    ticks += stats.get(current)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === current) queue.push(child);
  }
  return ticks / ticksPerSecond;
}

/**
 * The processes a bench starts, each pinned to one CPU with taskset and logging to the work
 * directory; `stopAll` ends every one of them (SIGTERM, then SIGKILL after a grace period).
 */
export class PinnedProcesses {
  readonly #children: ChildProcess[] = [];
  readonly #logDir: string;
  #stopping = false;

  constructor(logDir: string) {
    this.#logDir = logDir;
  }

  start(name: string, cpu: number, command: string, args: string[]): ChildProcess {
    const log = createWriteStream(join(this.#logDir, `${name}.log`));
    const child = spawn("taskset", ["-c", String(cpu), command, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.on("exit", (code, signal) => {
      if (!this.#stopping) console.error(`${name} exited early (${signal ?? code}); see ${name}.log`);
    });
    this.#children.push(child);
    return child;
  }

  async stopAll(): Promise<void> {
    this.#stopping = true;
    const running = this.#children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map(async (child) => {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Last resort on a synchronous exit path, where nothing can be awaited. */
  signalAllNow(): void {
    this.#stopping = true;
    for (const child of this.#children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
}

/** CPU seconds the whole machine has been busy since boot (softirq included: it is charged to processes too). */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq!) / ticksPerSecond;
}

/**
 * How much CPU processes outside this one's tree used while a measurement ran: the noise of
 * a shared machine, in cores (1 = one core fully taken by someone else).
 */
export class NoiseMeter {
  readonly #machine = machineBusySeconds();
  readonly #ours = cpuSeconds(process.pid);
  readonly #started = performance.now();

  cores(): number {
    const elapsed = (performance.now() - this.#started) / 1000;
    const others = machineBusySeconds() - this.#machine - (cpuSeconds(process.pid) - this.#ours);
    return Math.max(0, others / elapsed);
  }
}

/** This process and the ones that started it (npm, sh), which name bench/ too. */
function ancestors(): Set<number> {
  const pids = new Set<number>();
  for (let pid = process.pid; pid > 1 && !pids.has(pid); ) {
    pids.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return pids;
}

/** The machine is shared: never measure while another benchmark (a process naming bench/) runs. */
export async function waitForOtherBenchmarks(): Promise<void> {
  const mine = ancestors();
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
