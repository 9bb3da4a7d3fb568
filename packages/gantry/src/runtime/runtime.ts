/**
 * The variation point between Gantry and whatever runs instances: the local supervisor
 * today, an agent per host later. Instances outlive the control plane: a runtime created
 * after a restart finds (adopts) the instances that are still running.
 */
export interface InstanceSpec {
  /** Unique, stable id such as "demo-v2-1"; also the name of its log and state files. */
  id: string;
  service: string;
  version: string;
  /** Working directory: the release's directory in the data dir. */
  cwd: string;
  /** Shell command, run with /bin/sh -c. */
  command: string;
  /** Extra environment; PORT, GANTRY_SERVICE, GANTRY_VERSION and GANTRY_INSTANCE are added. */
  env: Record<string, string>;
  /** The port the instance must listen on, on 127.0.0.1. */
  port: number;
  /** After SIGTERM, how long to wait before SIGKILL. */
  stopTimeoutMs: number;
}

export type InstanceState = "running" | "backoff" | "stopping" | "stopped";

export interface InstanceStatus {
  id: string;
  service: string;
  version: string;
  port: number;
  /** pid of the instance's process (its process group leader), null while it is not running. */
  pid: number | null;
  state: InstanceState;
  /** Times the instance crashed and was started again. */
  restarts: number;
  /** ISO time the current process started. */
  startedAt: string | null;
  /** Exit code or signal of the last exit, if it ever exited. */
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  /** pid of the supervisor holding the instance (the local runtime's shim), if there is one. */
  shimPid?: number | null;
  /** While in "backoff": ISO time the next start is due. */
  nextStartAt?: string | null;
}

export interface Runtime {
  /** Starts an instance (a crash later restarts it with backoff). Resolves once it was spawned. */
  start(spec: InstanceSpec): Promise<InstanceStatus>;
  /**
   * SIGTERM, then SIGKILL after the stop timeout; resolves when every process of it is gone.
   * Idempotent: stopping an unknown or already stopped instance resolves.
   */
  stop(id: string): Promise<void>;
  /** Every instance this runtime knows, including ones adopted from before a restart. */
  list(): Promise<InstanceStatus[]>;
  /** The last bytes of an instance's log (stdout and stderr interleaved). */
  logs(id: string, tailBytes?: number): Promise<string>;
  /** Calls onChunk with new log output until the signal aborts. */
  followLogs(id: string, onChunk: (text: string) => void, signal: AbortSignal): Promise<void>;
}
