import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A spinning loop that reports the gaps in its own progress: what it was not allowed to run. */
const spinner = `
const end = performance.now() + Number(process.argv[1]);
let last = performance.now(), worst = 0, stalled = 0, stalls = 0;
while (last < end) {
  const now = performance.now();
  const gap = now - last;
  if (gap > 0.5) { stalled += gap; stalls++; }
  if (gap > worst) worst = gap;
  last = now;
}
console.log(JSON.stringify({ worst, stalled, stalls }));
`;

export interface Stalls {
  /** The longest a busy core was kept from running, in milliseconds. */
  worstMs: number;
  /** Share of the time busy cores lost in pauses over 0.5 ms. */
  share: number;
}

/**
 * How long this machine pauses a process that keeps a core busy, with every core busy: the
 * floor under any p99 measured here. A virtual machine whose host runs other guests loses its
 * cores for milliseconds at a time, and a proxy whose core stops for 4 ms "adds" 4 ms to the
 * requests it holds, however fast it is.
 */
export async function measureStalls(cores: number[], ms = 3000): Promise<Stalls> {
  const results = await Promise.all(
    cores.map(async (cpu) => {
      const { stdout } = await run("taskset", [
        "-c",
        String(cpu),
        process.execPath,
        "-e",
        spinner,
        String(ms),
      ]);
      return JSON.parse(stdout) as { worst: number; stalled: number };
    }),
  );
  return {
    worstMs: Math.max(...results.map((r) => r.worst)),
    share: results.reduce((sum, r) => sum + r.stalled, 0) / (ms * results.length),
  };
}
