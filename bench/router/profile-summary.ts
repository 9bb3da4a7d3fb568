// node bench/router/profile-summary.ts FILE.cpuprofile — what a V8 CPU profile (as written by
// `node --cpu-prof`) spent its time on: self time by where the code lives, the top functions by
// self time, and the call path that leads to the heaviest of them.
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function's code lives: gantry, a dependency, node's own JS, or V8 itself. */
function origin(frame: CallFrame): string {
  if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  if (frame.url.startsWith("node:")) return "node core";
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (dependency) return dependency[1]!;
  if (frame.url.includes("/packages/gantry/")) return "gantry";
  return frame.url;
}

function describe(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/(node_modules|packages)\//, "$1/").replace(/^file:\/\//, "");
  return `${frame.functionName || "(anonymous)"}${file ? ` ${file}:${frame.lineNumber + 1}` : ""}`;
}

function top(entries: Map<string, number>, total: number, count: number): string[] {
  return [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
}

const add = (map: Map<string, number>, key: string, us: number): void => {
  map.set(key, (map.get(key) ?? 0) + us);
};

/** Self time by origin and by function, as text; `(idle)` is left out of the percentages. */
export function summariseProfile(file: string, count = 15, withPaths = 4): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  const paths = new Map<string, Map<string, number>>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === "(idle)") {
      idle += us;
      return;
    }
    busy += us;
    const key = describe(frame);
    add(byFunction, key, us);
    add(byOrigin, origin(frame), us);
    const callers: string[] = [];
    for (let p = parentOf.get(id); p !== undefined && callers.length < 5; p = parentOf.get(p))
      callers.push(byId.get(p)!.callFrame.functionName || "(anonymous)");
    const byPath = paths.get(key) ?? new Map<string, number>();
    add(byPath, callers.join(" < "), us);
    paths.set(key, byPath);
  });
  const heaviest = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, withPaths);
  return [
    `busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (percentages are of busy time)`,
    "self time by origin:",
    ...top(byOrigin, busy, 12),
    `top ${count} functions by self time:`,
    ...top(byFunction, busy, count),
    "main call path of the heaviest:",
    ...heaviest.map(([key]) => `  ${key}\n    < ${top(paths.get(key)!, busy, 1)[0]!.trim()}`),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node bench/router/profile-summary.ts FILE.cpuprofile");
    process.exit(2);
  }
  console.log(summariseProfile(file));
}
