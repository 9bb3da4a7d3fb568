import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, rmSync, statSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { GantryError } from "../errors/index.ts";
import { baseEnv } from "./instance-env.ts";
import {
  assertValidInstanceId,
  type BackoffPolicy,
  ensureDir,
  type InstanceRecord,
  instancePaths,
  listInstanceIds,
  readJson,
  removeFile,
  type ShimConfig,
  toStatus,
  writeJsonAtomic,
} from "./instance-files.ts";
import { followLog, tailLog } from "./log-reader.ts";
import { groupAlive, isAlive, ownsGroup, signalGroup, signalProcess, waitUntil } from "./process-table.ts";
import { DEFAULT_BACKOFF } from "./restart-backoff.ts";
import type { InstanceSpec, InstanceStatus, Runtime } from "./runtime.ts";

export interface LocalRuntimeOptions {
  /** Gantry's data directory; instances live under `<dataDir>/instances/<id>/`. */
  dataDir: string;
  /** Node binary that runs the shims (must strip TypeScript types: Node 24+). */
  nodePath?: string;
  /** Each instance log rotates past this size; one rotation is kept. Default 1 MiB. */
  logMaxBytes?: number;
  /** Restart backoff of crashed instances. Default 0.5 s doubling to 30 s, reset after 30 s up. */
  backoff?: Partial<BackoffPolicy>;
  /** How long start() waits for the shim to report in. Default 10 s. */
  startTimeoutMs?: number;
  /** Poll interval of followLogs. Default 200 ms. */
  followPollMs?: number;
}

/** Beside this file, with the same extension: .ts from source, .js once Gantry is built. */
const SHIM_SCRIPT = fileURLToPath(new URL(`./instance-shim${extname(import.meta.url)}`, import.meta.url));
const DEFAULT_TAIL_BYTES = 64 * 1024;
/** Time a shim gets beyond the instance's stop timeout to SIGKILL, reap and write its state. */
const SHIM_STOP_GRACE_MS = 8_000;

/**
 * Runs instances on this machine, each under its own detached shim (instance-shim.ts).
 * The runtime holds no state of its own: the files under `<dataDir>/instances` are the
 * truth, so a LocalRuntime created after the control plane restarted sees, stops and
 * reads the logs of instances started by the one before (see `adopt`).
 */
export class LocalRuntime implements Runtime {
  readonly #dataDir: string;
  readonly #nodePath: string;
  readonly #logMaxBytes: number;
  readonly #backoff: BackoffPolicy;
  readonly #startTimeoutMs: number;
  readonly #followPollMs: number;
  readonly #starting = new Set<string>();

  constructor(options: LocalRuntimeOptions) {
    this.#dataDir = options.dataDir;
    this.#nodePath = options.nodePath ?? process.execPath;
    this.#logMaxBytes = options.logMaxBytes ?? 1024 * 1024;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#followPollMs = options.followPollMs ?? 200;
  }

  async start(spec: InstanceSpec): Promise<InstanceStatus> {
    validateSpec(spec);
    const existing = this.#inspect(spec.id);
    if (this.#starting.has(spec.id) || (existing !== null && existing.state !== "stopped")) {
      throw new GantryError("CONFLICT", `Instance "${spec.id}" is already running; stop it first.`, {
        field: "id",
      });
    }
    this.#starting.add(spec.id);
    try {
      const shim = this.#spawnShim(spec);
      return toStatus(await this.#waitForShim(spec.id, shim));
    } finally {
      this.#starting.delete(spec.id);
    }
  }

  async stop(id: string): Promise<void> {
    const paths = instancePaths(this.#dataDir, id);
    const record = readJson<InstanceRecord>(paths.state);
    if (record === null) return;
    if (isAlive(record.shim)) {
      signalProcess(record.shim.pid, "SIGTERM");
      const budget = record.spec.stopTimeoutMs + SHIM_STOP_GRACE_MS;
      if (!(await waitUntil(() => !isAlive(record.shim), budget))) {
        // A wedged shim must not keep the instance alive: take both down hard.
        signalProcess(record.shim.pid, "SIGKILL");
        await waitUntil(() => !isAlive(record.shim), 2_000);
      }
    }
    // Normally the shim took its process group down; if the shim died first, we do it.
    const last = readJson<InstanceRecord>(paths.state) ?? record;
    if (last.child !== null && ownsGroup(last.child))
      await stopGroup(last.child.pid, last.spec.stopTimeoutMs);
    removeFile(paths.state);
    removeFile(paths.shimConfig);
  }

  /** Stops every instance of this data dir in parallel (Ctrl-C of `gantry up`). */
  async stopAll(): Promise<void> {
    await Promise.all(listInstanceIds(this.#dataDir).map((id) => this.stop(id)));
  }

  /** Stops the instance and deletes its directory, logs included. */
  async remove(id: string): Promise<void> {
    await this.stop(id);
    rmSync(instancePaths(this.#dataDir, id).dir, { recursive: true, force: true });
  }

  async list(): Promise<InstanceStatus[]> {
    const records = listInstanceIds(this.#dataDir).map((id) => this.#inspect(id));
    return records.filter((record) => record !== null).map(toStatus);
  }

  /**
   * The instances still running from before a control-plane restart, now under this
   * runtime. Instances whose shim vanished are reaped and reported by list() as stopped.
   */
  async adopt(): Promise<InstanceStatus[]> {
    return (await this.list()).filter((status) => status.state !== "stopped");
  }

  async status(id: string): Promise<InstanceStatus | null> {
    const record = this.#inspect(id);
    return record === null ? null : toStatus(record);
  }

  async logs(id: string, tailBytes = DEFAULT_TAIL_BYTES): Promise<string> {
    const paths = this.#knownPaths(id);
    return tailLog(paths.log, paths.rotatedLog, tailBytes);
  }

  async followLogs(id: string, onChunk: (text: string) => void, signal: AbortSignal): Promise<void> {
    await followLog(this.#knownPaths(id).log, onChunk, signal, this.#followPollMs);
  }

  #knownPaths(id: string) {
    const paths = instancePaths(this.#dataDir, id);
    if (!existsSync(paths.dir)) {
      throw new GantryError("NOT_FOUND", `No instance "${id}" in ${this.#dataDir}.`, { field: "id" });
    }
    return paths;
  }

  /**
   * The instance's record, reconciled with reality. A shim that died without writing
   * "stopped" was SIGKILLed or crashed; its instance is unsupervised, so it is killed now
   * rather than left running where nobody restarts, stops or logs it.
   */
  #inspect(id: string): InstanceRecord | null {
    const paths = instancePaths(this.#dataDir, id);
    const record = readJson<InstanceRecord>(paths.state);
    if (record === null || record.state === "stopped" || isAlive(record.shim)) return record;
    if (record.child !== null && ownsGroup(record.child)) signalGroup(record.child.pid, "SIGKILL");
    const at = new Date().toISOString();
    const reaped: InstanceRecord = {
      ...record,
      state: "stopped",
      child: null,
      nextStartAt: null,
      lastExit: record.state === "running" ? { code: null, signal: "SIGKILL", at } : record.lastExit,
      updatedAt: at,
    };
    writeJsonAtomic(paths.state, reaped);
    return reaped;
  }

  #spawnShim(spec: InstanceSpec): ChildProcess {
    const paths = instancePaths(this.#dataDir, spec.id);
    ensureDir(paths.dir);
    removeFile(paths.state);
    const config: ShimConfig = { spec, logMaxBytes: this.#logMaxBytes, backoff: this.#backoff };
    writeJsonAtomic(paths.shimConfig, config);
    const shimLog = openSync(paths.shimLog, "a", 0o600);
    try {
      // detached + stdio on a file: its own session, nothing tying it to our lifetime.
      const shim = spawn(this.#nodePath, [SHIM_SCRIPT, paths.dir], {
        detached: true,
        // Not our cwd: a long-lived process should not pin a directory someone may delete or unmount.
        cwd: paths.dir,
        stdio: ["ignore", shimLog, shimLog],
        env: baseEnv(process.env),
      });
      shim.unref();
      return shim;
    } finally {
      closeSync(shimLog);
    }
  }

  async #waitForShim(id: string, shim: ChildProcess): Promise<InstanceRecord> {
    const paths = instancePaths(this.#dataDir, id);
    let failure: string | null = null;
    shim.once("error", (error) => (failure = error.message));
    shim.once("exit", (code, signal) => (failure ??= `shim exited (${signal ?? code})`));
    let record: InstanceRecord | null = null;
    const reported = () => {
      record = readJson<InstanceRecord>(paths.state);
      return failure !== null || (record !== null && record.shim.pid === shim.pid);
    };
    if (!(await waitUntil(reported, this.#startTimeoutMs)) || record === null) {
      if (shim.pid !== undefined && failure === null) signalProcess(shim.pid, "SIGKILL");
      const shimLog = await tailLog(paths.shimLog, null, 2_000);
      throw new GantryError("INTERNAL", `Could not start instance "${id}": ${failure ?? "shim timed out"}.`, {
        details: { shimLog },
      });
    }
    return record;
  }
}

async function stopGroup(pgid: number, stopTimeoutMs: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  if (await waitUntil(() => !groupAlive(pgid), stopTimeoutMs, 50)) return;
  signalGroup(pgid, "SIGKILL");
  await waitUntil(() => !groupAlive(pgid), 5_000);
}

function validateSpec(spec: InstanceSpec): void {
  const bad = (field: string, message: string) => new GantryError("BAD_REQUEST", message, { field });
  assertValidInstanceId(spec.id);
  if (spec.command.trim() === "") throw bad("command", `Instance "${spec.id}" has an empty command.`);
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
    throw bad("port", `Port ${spec.port} of instance "${spec.id}" must be an integer from 1 to 65535.`);
  }
  if (!(spec.stopTimeoutMs >= 0)) throw bad("stopTimeoutMs", `stopTimeoutMs must be 0 or more.`);
  if (!isDirectory(spec.cwd)) {
    throw bad("cwd", `Working directory "${spec.cwd}" of instance "${spec.id}" does not exist.`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
