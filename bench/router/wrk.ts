import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors plus non-2xx/3xx answers; a run with any is not a clean measurement. */
  errors: number;
}

export interface WrkOptions {
  url: string;
  cpu: number;
  connections: number;
  seconds: number;
}

/** A wrk latency such as `512.00us`, `1.20ms` or `2.00s`, in milliseconds. */
export function parseLatency(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) return Number.NaN;
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as "us" | "ms" | "s" | "m"];
  return Number(match[1]) * scale;
}

/** Reads wrk's (or wrk2's) `--latency` report. */
export function parseWrk(out: string): WrkResult {
  const percentile = (p: string): number =>
    parseLatency(new RegExp(`^\\s+${p}(?:\\.0+)?%\\s+(\\S+)`, "m").exec(out)?.[1] ?? "");
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const result = {
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50Ms: percentile("50"),
    p99Ms: percentile("99"),
    errors: socketErrors + non2xx,
  };
  if (Object.values(result).some(Number.isNaN)) throw new Error(`could not read wrk's report:\n${out}`);
  return result;
}

async function wrk(command: string, o: WrkOptions, extra: string[]): Promise<WrkResult> {
  const args = ["-c", String(o.cpu), command, "-t1", `-c${o.connections}`, `-d${o.seconds}s`, "--latency"];
  const { stdout } = await run("taskset", [...args, ...extra, o.url]);
  return parseWrk(stdout);
}

/** As many requests as the target answers: closed loop, keep-alive, one wrk thread. */
export function wrkMax(o: WrkOptions): Promise<WrkResult> {
  return wrk("wrk", o, []);
}

function paceScript(workDir: string, meanMs: number): string {
  const script = join(workDir, `pace-${meanMs.toFixed(4)}.lua`);
  writeFileSync(
    script,
    `math.randomseed(os.time())
local mean = ${meanMs.toFixed(4)}
function delay()
  return math.floor(-mean * math.log(1 - math.random()) + 0.5)
end
`,
  );
  return script;
}

/**
 * Requests at about `rate` per second. With wrk2 the rate is exact and latency is counted from
 * each request's scheduled time. Without it, plain wrk paces each connection with a Lua
 * `delay()`: after each answer a connection waits a random, exponentially distributed time,
 * so the connections do not move in lockstep and arrivals are close to Poisson. A connection's
 * cycle is that wait plus the answer's latency plus wrk's millisecond timer slack, so a 1 s
 * calibration run measures the slack and the mean wait is shortened by it. That loop is
 * closed: latency is measured from send to answer, and a stalled connection sends nothing
 * meanwhile (no coordinated-omission correction), so read its p99 as a lower bound. The
 * achieved rate is in the result.
 */
export async function wrkAtRate(
  o: WrkOptions & { rate: number; wrk2: boolean; workDir: string },
): Promise<WrkResult> {
  if (o.wrk2) return wrk("wrk2", o, [`-R${Math.round(o.rate)}`]);
  const cycleMs = (o.connections * 1000) / o.rate;
  const trial = await wrk("wrk", { ...o, seconds: 1 }, ["-s", paceScript(o.workDir, cycleMs)]);
  const slackMs = (o.connections * 1000) / trial.rps - cycleMs;
  const meanMs = Math.max(0, cycleMs - Math.max(0, slackMs));
  return wrk("wrk", o, ["-s", paceScript(o.workDir, meanMs)]);
}
