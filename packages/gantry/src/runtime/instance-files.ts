import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GantryError } from "../errors/index.ts";
import type { ProcessIdentity } from "./process-table.ts";
import type { InstanceSpec, InstanceState, InstanceStatus } from "./runtime.ts";

/**
 * The on-disk layout of one instance, shared by the runtime and the shim:
 *
 *   DATA/instances/<id>/shim.json   what the shim must run (written by the runtime)
 *   DATA/instances/<id>/state.json  what the shim is doing (written only by the shim)
 *   DATA/instances/<id>/log, log.1  the instance's stdout+stderr, rotated
 *   DATA/instances/<id>/shim.log    the shim's own crashes, if any
 *
 * These files are the only link between a control plane and its instances, which is
 * what lets a restarted control plane adopt them.
 */
export interface InstancePaths {
  dir: string;
  shimConfig: string;
  state: string;
  log: string;
  rotatedLog: string;
  shimLog: string;
}

export interface BackoffPolicy {
  /** Delay before the first restart; doubles on each consecutive crash. */
  initialMs: number;
  maxMs: number;
  /** A process that stayed up this long is healthy again: the next crash starts from initialMs. */
  resetAfterMs: number;
}

export interface ShimConfig {
  spec: InstanceSpec;
  logMaxBytes: number;
  backoff: BackoffPolicy;
}

export interface LastExit {
  code: number | null;
  signal: string | null;
  at: string;
}

/** The shim's state file. Secrets in spec.env live here, hence mode 0600. */
export interface InstanceRecord {
  spec: InstanceSpec;
  shim: ProcessIdentity;
  /** The current instance process, leader of its own process group; null between runs. */
  child: ProcessIdentity | null;
  state: InstanceState;
  restarts: number;
  startedAt: string | null;
  lastExit: LastExit | null;
  /** While in backoff: when the next start is due. */
  nextStartAt: string | null;
  updatedAt: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidInstanceId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function instancesDir(dataDir: string): string {
  return join(dataDir, "instances");
}

/** Refuses ids that are not plain names, so no id can reach outside the instances dir. */
export function assertValidInstanceId(id: string): void {
  if (isValidInstanceId(id)) return;
  throw new GantryError(
    "BAD_REQUEST",
    `Instance id "${id}" must be 1-128 letters, digits, ".", "_" or "-".`,
    {
      field: "id",
    },
  );
}

export function instancePaths(dataDir: string, id: string): InstancePaths {
  assertValidInstanceId(id);
  return pathsIn(join(instancesDir(dataDir), id));
}

export function pathsIn(dir: string): InstancePaths {
  return {
    dir,
    shimConfig: join(dir, "shim.json"),
    state: join(dir, "state.json"),
    log: join(dir, "log"),
    rotatedLog: join(dir, "log.1"),
    shimLog: join(dir, "shim.log"),
  };
}

export function listInstanceIds(dataDir: string): string[] {
  try {
    return readdirSync(instancesDir(dataDir)).filter(isValidInstanceId).sort();
  } catch {
    return [];
  }
}

/** Writes tmp then renames, so a reader never sees half a file even if the writer dies. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return null;
  }
}

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

export function toStatus(record: InstanceRecord): InstanceStatus {
  const { spec } = record;
  return {
    id: spec.id,
    service: spec.service,
    version: spec.version,
    port: spec.port,
    pid: record.state === "running" || record.state === "stopping" ? (record.child?.pid ?? null) : null,
    state: record.state,
    restarts: record.restarts,
    startedAt: record.startedAt,
    lastExit: record.lastExit,
    shimPid: record.shim.pid,
    nextStartAt: record.nextStartAt,
  };
}
