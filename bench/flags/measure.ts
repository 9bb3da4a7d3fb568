import { setTimeout as sleep, setImmediate as turn } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** One way of evaluating flag `i % 100` for user `(i * 7) % 1000`: sync or awaited. */
export interface BenchCase {
  name: string;
  /** Returns whether the flag is on for that evaluation. */
  run: (i: number) => boolean | Promise<boolean>;
  async: boolean;
}

export interface CaseResult {
  name: string;
  /** Median over rounds of evaluations per second. */
  perSecond: number;
  /** The best round's evaluations per second (the least disturbed by other processes). */
  bestPerSecond: number;
  /** Per-evaluation latency percentiles in µs, each evaluation timed on its own. */
  p50Us: number;
  p99Us: number;
  p999Us: number;
  /** Share of evaluations that said on (a check that both SDKs did the same work). */
  onShare: number;
  /** Evaluations a round (sized so every case's round takes about as long). */
  callsPerRound: number;
  /** Evaluations run in all, warm-up and latency included. */
  evaluations: number;
}

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

let onCount = 0;

/** One round of `calls` evaluations; ns per evaluation. */
async function round(c: BenchCase, calls: number, offset: number): Promise<number> {
  const start = process.hrtime.bigint();
  if (c.async) {
    for (let i = offset; i < offset + calls; i++) if (await c.run(i)) onCount++;
  } else {
    for (let i = offset; i < offset + calls; i++) if (c.run(i)) onCount++;
  }
  const ns = Number(process.hrtime.bigint() - start) / calls;
  // Let the event loop turn (timers, sockets), as an application's does: awaited
  // evaluations alone only run microtasks, and both SDKs have background work to do.
  await turn();
  return ns;
}

/**
 * Throughput: every case runs `rounds` rounds, interleaved round by round (so drift on this
 * shared machine hits all alike), a full GC and a pause before each round outside the
 * timing; the median round counts. Each case's round is sized from its warm-up to take
 * about `roundMs`, so a fast case is not measured in slices short enough for one
 * preemption by another process to decide them. Latency: then `latencyCalls` evaluations
 * of each case timed one by one with performance.now() (the timer's own cost, ~30-60 ns,
 * is included; see the `timer only` row).
 */
export async function measure(
  cases: BenchCase[],
  options: { rounds: number; roundMs: number; latencyCalls: number },
): Promise<CaseResult[]> {
  const calls = new Map<BenchCase, number>();
  const evaluations = new Map<BenchCase, number>();
  for (const c of cases) {
    let size = 1000;
    let ns = await round(c, size, 0);
    for (let w = 0; w < 3; w++) {
      size = Math.max(1000, Math.min(20_000_000, Math.round((options.roundMs * 1e6) / ns)));
      ns = await round(c, size, 0);
      evaluations.set(c, (evaluations.get(c) ?? 1000) + size);
    }
    calls.set(c, size);
  }
  const samples = new Map(cases.map((c) => [c.name, [] as number[]]));
  for (let r = 0; r < options.rounds; r++) {
    for (const c of cases) {
      await settle();
      samples.get(c.name)!.push(await round(c, calls.get(c)!, r * calls.get(c)!));
      evaluations.set(c, evaluations.get(c)! + calls.get(c)!);
    }
  }
  const results: CaseResult[] = [];
  for (const c of cases) {
    await settle();
    const latencies = new Float64Array(options.latencyCalls);
    let on = 0;
    for (let i = 0; i < options.latencyCalls; i++) {
      const start = performance.now();
      const value = c.async ? await c.run(i) : c.run(i);
      latencies[i] = performance.now() - start;
      if (value) on++;
      if (i % 10_000 === 9999) await turn();
    }
    latencies.sort();
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 1000;
    results.push({
      name: c.name,
      perSecond: 1e9 / median(samples.get(c.name)!),
      bestPerSecond: 1e9 / Math.min(...samples.get(c.name)!),
      p50Us: at(0.5),
      p99Us: at(0.99),
      p999Us: at(0.999),
      onShare: on / options.latencyCalls,
      callsPerRound: calls.get(c)!,
      evaluations: evaluations.get(c)! + options.latencyCalls,
    });
  }
  // Keeps the answers alive, so the engine cannot drop the calls.
  if (onCount === 0) throw new Error("no evaluation said on");
  return results;
}

/**
 * A full collection, then a pause for the collector's background threads (concurrent
 * sweeping) to finish: otherwise the case after a garbage-heavy one (the OpenFeature
 * client's) pays for its predecessor's garbage.
 */
async function settle(): Promise<void> {
  collectGarbage();
  await sleep(50);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
