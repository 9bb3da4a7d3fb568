// node bench/router/profile-summary.ts FILE.cpuprofile — the top self-time functions of a
// V8 CPU profile (as written by `node --cpu-prof`), and self time by where the code lives.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function's code lives: gantry, a dependency, node's own JS, or V8 itself. */
function origin(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  if (url.startsWith("node:")) return "node core";
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  if (url.includes("/packages/gantry/")) return "gantry";
  return url;
}

function table(title: string, entries: [string, number][], total: number, top: number): string {
  const rows = entries
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  return [title, ...rows].join("\n");
}

/** Self time by function and by origin, as text; `(idle)` is left out of the percentages. */
export function summariseProfile(file: string, top = 15): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
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
    const short = frame.url.replace(/^.*\/(node_modules|packages)\//, "$1/").replace(/^file:\/\//, "");
    const key = `${frame.functionName || "(anonymous)"}  ${short}${short ? `:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const where = origin(frame.url, frame.functionName);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
  });
  return [
    `busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (percentages are of busy time)`,
    table("self time by origin:", [...byOrigin], busy, 12),
    table(`top ${top} functions by self time:`, [...byFunction], busy, top),
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
