import { readdirSync, readFileSync } from "node:fs";

/**
 * What Gantry knows about a live process from /proc. Linux only; elsewhere every read
 * returns null and callers fall back to plain `kill(pid, 0)` liveness.
 *
 * Liveness is "exists and is not a zombie": PID 1 in some containers never reaps
 * orphans, so a dead instance can linger as a zombie forever and `kill(pid, 0)` alone
 * would report it alive.
 */
export interface ProcStat {
  pid: number;
  /** One-letter state: R, S, D, Z, T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** CPU time in clock ticks (user + system). */
  cpuTicks: number;
  /** Start time since boot in clock ticks: with the pid, identifies one process for good. */
  startTime: string;
}

/** A process as recorded in a state file: pid plus start time, to survive pid reuse. */
export interface ProcessIdentity {
  pid: number;
  /** null where /proc is unavailable; then only the pid is compared. */
  startTime: string | null;
}

/** Linux's USER_HZ, fixed at 100 on every mainstream architecture. */
export const CLOCK_TICKS_PER_SECOND = 100;

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => fields[n - 3] ?? "0";
  return {
    pid,
    state: field(3),
    ppid: Number(field(4)),
    pgrp: Number(field(5)),
    cpuTicks: Number(field(14)) + Number(field(15)),
    startTime: field(22),
  };
}

export function procAvailable(): boolean {
  return readProcStat(process.pid) !== null;
}

export function identify(pid: number): ProcessIdentity {
  return { pid, startTime: readProcStat(pid)?.startTime ?? null };
}

function signalReaches(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still means "alive".
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True while this very process (same pid, same start time) runs and is not a zombie. */
export function isAlive(identity: ProcessIdentity): boolean {
  if (!signalReaches(identity.pid)) return false;
  const stat = readProcStat(identity.pid);
  if (stat === null) return !procAvailable();
  if (stat.state === "Z" || stat.state === "X") return false;
  return identity.startTime === null || stat.startTime === identity.startTime;
}

/** Pids of the live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  if (!signalReaches(-pgid)) return [];
  if (!procAvailable()) return [pgid];
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readProcStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X") members.push(pid);
  }
  return members;
}

export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** Signals one process, never throwing: it may have exited since it was last seen alive. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Signals a whole process group, never throwing: the group may have just died.
 * The caller must have checked the group is ours (see `ownsGroup`).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Whether the group led by `leader` is still the one we started. While any member of a
 * group lives the kernel never hands its id to a new process, so a dead leader with live
 * members is still ours; a live leader must match the recorded start time.
 */
export function ownsGroup(leader: ProcessIdentity): boolean {
  const stat = readProcStat(leader.pid);
  if (stat === null || stat.state === "Z") return groupAlive(leader.pid);
  return leader.startTime === null || stat.startTime === leader.startTime;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `done()` holds or the deadline passes; resolves with whether it held. */
export async function waitUntil(done: () => boolean, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}
