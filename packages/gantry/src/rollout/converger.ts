import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { RouterAdmin } from "../router/admin-client.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Service, ServiceCatalog } from "../services/index.ts";
import type { InstanceRecord, InstanceRecords } from "./instance-records.ts";
import type { Target } from "./plan.ts";
import { DeployFailure, type HealthWatcher, RolloutAborted } from "./ports.ts";
import type { TrafficController } from "./traffic-controller.ts";

export interface ConvergerDeps {
  catalog: ServiceCatalog;
  instances: InstanceRecords;
  runtime: Runtime;
  health: HealthWatcher;
  router: RouterAdmin;
  traffic: TrafficController;
  allocatePort: () => Promise<number>;
  /** Environment every instance gets from Gantry itself (e.g. GANTRY_API, GANTRY_SDK_TOKEN). */
  instanceEnv?: () => Record<string, string>;
  now: () => Date;
  log: Logger;
}

const pollMs = 50;
const logTailBytes = 4000;

/**
 * Makes a service look like a target: start what is missing and wait until it is healthy,
 * then switch traffic, then drain and stop what is no longer wanted. In that order, so
 * that no request meets an instance that is not ready or already gone. Idempotent: after a
 * restart the same target is simply converged again.
 */
export class Converger {
  readonly #d: ConvergerDeps;

  constructor(deps: ConvergerDeps) {
    this.#d = deps;
  }

  async converge(serviceName: string, target: Target, signal?: AbortSignal): Promise<void> {
    const { catalog, traffic } = this.#d;
    const service = await catalog.get(serviceName);
    const current = (await this.#d.instances.alive(serviceName)).filter((i) => i.state !== "draining");
    const wanted: InstanceRecord[] = [];
    for (const [version, count] of Object.entries(target.instances)) {
      const have = current.filter((i) => i.version === version).sort(readyFirst);
      const keep = have.slice(0, count);
      while (keep.length < count) keep.push(await this.#start(service, version));
      wanted.push(...keep);
    }
    await this.#waitReady(service, wanted, signal);
    const state = await catalog.state(serviceName);
    await catalog.saveState({ ...state, traffic: target.traffic, mode: target.mode });
    await traffic.publish();
    const keepIds = new Set(wanted.map((i) => i.id));
    await this.retire(
      service,
      current.filter((i) => !keepIds.has(i.id)),
    );
  }

  /** Takes instances out of rotation, waits for their in-flight requests, then stops them. */
  async retire(service: Service, records: InstanceRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { instances, traffic, runtime, health, log } = this.#d;
    for (const r of records) await instances.setState(r.id, "draining");
    await traffic.publish();
    await this.#waitDrained(
      records.map((r) => r.id),
      service.spec.stopTimeout,
    );
    await Promise.all(
      records.map(async (r) => {
        try {
          await runtime.stop(r.id);
        } catch (error) {
          log.warn({ err: error, instance: r.id }, "stopping an instance failed");
        }
        health.forget(r.id);
        await instances.setState(r.id, "stopped");
      }),
    );
  }

  async #start(service: Service, version: string): Promise<InstanceRecord> {
    const { catalog, instances, runtime, health, allocatePort } = this.#d;
    const release = await catalog.getRelease(service.name, version);
    const port = await allocatePort();
    const id = `${service.name}-${version}-${randomBytes(3).toString("hex")}`;
    const record = await instances.add({ id, service: service.name, version, port });
    await runtime.start({
      id,
      service: service.name,
      version,
      cwd: release.dir,
      command: service.spec.command,
      // The Node that runs Gantry comes first on PATH, so `node server.ts` finds Node 24.
      env: {
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        ...this.#d.instanceEnv?.(),
        ...service.spec.env,
        ...release.env,
      },
      port,
      stopTimeoutMs: service.spec.stopTimeout,
    });
    health.watch(id, port, service.spec.healthCheck);
    this.#d.log.info({ instance: id, port }, "instance started");
    return record;
  }

  async #waitReady(
    service: Service,
    records: InstanceRecord[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const deadlineMs = service.spec.healthCheck.deadline;
    const pending = new Map(records.filter((r) => r.state !== "ready").map((r) => [r.id, r]));
    while (pending.size > 0) {
      if (signal?.aborted) throw new RolloutAborted(String(signal.reason ?? "aborted"));
      for (const [id, record] of pending) {
        const fresh = await this.#d.instances.get(id);
        if (fresh?.state === "ready") pending.delete(id);
        else if (this.#d.now().getTime() - Date.parse(record.createdAt) > deadlineMs) {
          await this.#failInstances(service, [...pending.values()]);
        }
      }
      if (pending.size > 0) await sleep(pollMs);
    }
  }

  async #failInstances(service: Service, records: InstanceRecord[]): Promise<never> {
    const logs: Record<string, string> = {};
    for (const r of records) {
      logs[r.id] = await this.#d.runtime.logs(r.id, logTailBytes).catch(() => "");
      await this.#d.instances.setState(r.id, "failed");
    }
    await Promise.all(records.map((r) => this.#d.runtime.stop(r.id).catch(() => undefined)));
    for (const r of records) this.#d.health.forget(r.id);
    const seconds = service.spec.healthCheck.deadline / 1000;
    const versions = [...new Set(records.map((r) => r.version))].join(", ");
    throw new DeployFailure(
      `${records.length} instance(s) of ${service.name} ${versions} did not pass the health check ${service.spec.healthCheck.path} within ${seconds}s`,
      logs,
    );
  }

  async #waitDrained(ids: string[], timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const inflight = await this.#d.router.inflight().catch(() => ({}) as Record<string, number>);
      if (ids.every((id) => !inflight[id])) return;
      await sleep(pollMs);
    }
    this.#d.log.warn({ instances: ids }, "requests still in flight after the stop timeout; stopping anyway");
  }
}

function readyFirst(a: InstanceRecord, b: InstanceRecord): number {
  return Number(b.state === "ready") - Number(a.state === "ready");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
