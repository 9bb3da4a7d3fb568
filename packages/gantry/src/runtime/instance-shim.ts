/**
 * The per-instance supervisor, in the spirit of containerd-shim. The runtime starts it
 * detached (own session, stdio on files), so it survives the control plane being killed.
 * It runs the instance's command in its own process group, restarts it with backoff when
 * it exits, pipes its output into a bounded log and keeps state.json current. On SIGTERM
 * it stops the whole group (SIGTERM, then SIGKILL after the stop timeout) and exits.
 *
 * Usage: node instance-shim.ts <instance dir>    (reads <dir>/shim.json)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { instanceEnv } from "./instance-env.ts";
import {
  type InstancePaths,
  type InstanceRecord,
  pathsIn,
  readJson,
  type ShimConfig,
  writeJsonAtomic,
} from "./instance-files.ts";
import { groupAlive, identify, signalGroup, waitUntil } from "./process-table.ts";
import { crashesAfterExit, restartDelayMs } from "./restart-backoff.ts";
import { RotatingLog } from "./rotating-log.ts";

/** After SIGKILL the kernel needs a moment; past this the group is reported and abandoned. */
const KILL_GRACE_MS = 5_000;

class InstanceShim {
  readonly #config: ShimConfig;
  readonly #paths: InstancePaths;
  readonly #log: RotatingLog;
  readonly #record: InstanceRecord;
  #child: ChildProcess | null = null;
  /** Settles once the current child exited and its output pipes were drained. */
  #childDone: Promise<void> = Promise.resolve();
  #crashes = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(paths: InstancePaths, config: ShimConfig) {
    this.#paths = paths;
    this.#config = config;
    this.#log = new RotatingLog(paths.log, config.logMaxBytes);
    this.#record = {
      spec: config.spec,
      shim: identify(process.pid),
      child: null,
      state: "backoff",
      restarts: 0,
      startedAt: null,
      lastExit: null,
      nextStartAt: null,
      updatedAt: new Date().toISOString(),
    };
  }

  run(): void {
    // What `ps` shows: the instance, not a node command line.
    process.title = `gantry-shim ${this.#config.spec.id}`;
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void this.stop(signal));
    // No terminal to hang up on; a stray SIGHUP must not take the instance down.
    process.on("SIGHUP", () => {});
    process.on("uncaughtException", (error) => this.#die(error));
    this.#startChild();
  }

  async stop(signal: string): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    this.#save({ state: "stopping", nextStartAt: null });
    const child = this.#record.child;
    if (child !== null) await this.#stopGroup(child.pid, signal);
    // Let the exit handler record how it ended and the last output reach the log; bounded
    // because a process that left the group could hold the pipes open.
    await Promise.race([this.#childDone, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    this.#save({ state: "stopped", child: null, nextStartAt: null });
    this.#note("stopped");
    this.#log.close();
    process.exit(0);
  }

  async #stopGroup(pgid: number, signal: string): Promise<void> {
    const { stopTimeoutMs } = this.#config.spec;
    this.#note(`${signal} received: sending SIGTERM to process group ${pgid}`);
    signalGroup(pgid, "SIGTERM");
    if (await waitUntil(() => !groupAlive(pgid), stopTimeoutMs, 50)) return;
    this.#note(`still running after ${stopTimeoutMs} ms: sending SIGKILL to process group ${pgid}`);
    signalGroup(pgid, "SIGKILL");
    if (!(await waitUntil(() => !groupAlive(pgid), KILL_GRACE_MS, 25))) {
      this.#note(`process group ${pgid} survived SIGKILL (stuck in the kernel?)`);
    }
  }

  #startChild(): void {
    if (this.#stopping) return;
    const { spec } = this.#config;
    // detached: the command leads its own process group, so stop reaches its children too.
    const child = spawn("/bin/sh", ["-c", spec.command], {
      cwd: spec.cwd,
      env: instanceEnv(spec, process.env),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    const startedAt = Date.now();
    child.stdout?.on("data", (chunk: Buffer) => this.#output(chunk));
    child.stderr?.on("data", (chunk: Buffer) => this.#output(chunk));
    child.once("exit", (code, signal) => this.#onExit(child, startedAt, code, signal));
    this.#childDone = new Promise((resolve) => {
      child.once("close", () => resolve());
      // Spawn failures (bad cwd, no /bin/sh) emit only "error": treat them as an exit.
      child.once("error", (error) => {
        if (child.pid !== undefined) return;
        this.#note(`could not start: ${error.message}`);
        this.#onExit(child, startedAt, null, null);
        resolve();
      });
    });
    if (child.pid === undefined) return;
    this.#note(`started pid ${child.pid}: ${spec.command}`);
    this.#save({
      state: "running",
      child: identify(child.pid),
      startedAt: new Date(startedAt).toISOString(),
      nextStartAt: null,
    });
  }

  #onExit(child: ChildProcess, startedAt: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    const lastExit = { code, signal, at: new Date().toISOString() };
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.#stopping) {
      this.#record.lastExit = lastExit;
      this.#note(`exited with ${how}`);
      return;
    }
    // Leftovers of a crashed instance would hold its port and block the restart.
    if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    const uptimeMs = Date.now() - startedAt;
    this.#crashes = crashesAfterExit(this.#crashes, uptimeMs, this.#config.backoff);
    const delayMs = restartDelayMs(this.#crashes, this.#config.backoff);
    this.#note(`exited with ${how} after ${(uptimeMs / 1000).toFixed(1)} s; restarting in ${delayMs} ms`);
    this.#save({
      state: "backoff",
      child: null,
      lastExit,
      restarts: this.#record.restarts + 1,
      nextStartAt: new Date(Date.now() + delayMs).toISOString(),
    });
    this.#restartTimer = setTimeout(() => this.#startChild(), delayMs);
  }

  /** Last resort on a shim bug: never leave the instance running unsupervised. */
  #die(error: unknown): void {
    process.stderr.write(`${new Date().toISOString()} shim crashed: ${(error as Error)?.stack ?? error}\n`);
    const child = this.#record.child;
    if (child !== null) signalGroup(child.pid, "SIGKILL");
    try {
      this.#save({ state: "stopped", child: null, nextStartAt: null });
    } finally {
      process.exit(1);
    }
  }

  /** Gantry's own lines go into the instance log, where whoever reads it needs them. */
  #note(message: string): void {
    this.#output(`[gantry] ${new Date().toISOString()} ${message}\n`);
  }

  /** A full or broken disk loses log lines; it must not take the instance down with it. */
  #output(chunk: Buffer | string): void {
    try {
      this.#log.write(chunk);
    } catch (error) {
      this.#complain("log write failed", error);
    }
  }

  #save(changes: Partial<InstanceRecord>): void {
    Object.assign(this.#record, changes, { updatedAt: new Date().toISOString() });
    try {
      writeJsonAtomic(this.#paths.state, this.#record);
    } catch (error) {
      // Keep supervising with a stale state file rather than kill a working instance.
      this.#complain("state write failed", error);
    }
  }

  #complain(what: string, error: unknown): void {
    process.stderr.write(`${new Date().toISOString()} ${what}: ${(error as Error)?.message ?? error}\n`);
  }
}

function main(): void {
  const dir = process.argv[2];
  const config = dir === undefined ? null : readJson<ShimConfig>(pathsIn(dir).shimConfig);
  if (dir === undefined || config === null) {
    process.stderr.write("usage: instance-shim.ts <instance dir containing shim.json>\n");
    process.exit(2);
  }
  new InstanceShim(pathsIn(dir), config).run();
}

main();
