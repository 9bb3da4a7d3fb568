import { readFileSync } from "node:fs";
import { CLOCK_TICKS_PER_SECOND, groupMembers, readProcStat } from "./process-table.ts";

export interface InstanceStats {
  /** Live processes in the instance's process group. */
  processes: number;
  /** User + system CPU time consumed so far by the live processes, in seconds. */
  cpuSeconds: number;
  /** Resident memory of the live processes, in bytes (shared pages counted per process). */
  rssBytes: number;
}

function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU and memory of the process group led by `pid` (an InstanceStatus pid), read from
 * /proc. Best effort: null when the group is gone or /proc is unavailable. CPU of
 * processes that already exited is not included, so rates should be taken between two
 * samples of a stable set of processes.
 */
export function instanceStats(pid: number): InstanceStats | null {
  const stats: InstanceStats = { processes: 0, cpuSeconds: 0, rssBytes: 0 };
  for (const member of groupMembers(pid)) {
    const stat = readProcStat(member);
    if (stat === null) continue;
    stats.processes += 1;
    stats.cpuSeconds += stat.cpuTicks / CLOCK_TICKS_PER_SECOND;
    stats.rssBytes += rssBytes(member);
  }
  return stats.processes === 0 ? null : stats;
}
