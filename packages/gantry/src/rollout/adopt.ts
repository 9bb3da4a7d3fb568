import type { Logger } from "pino";
import type { Runtime } from "../runtime/runtime.ts";
import type { ServiceCatalog } from "../services/index.ts";
import type { InstanceRecords } from "./instance-records.ts";
import type { HealthWatcher } from "./ports.ts";

export interface AdoptDeps {
  runtime: Runtime;
  instances: InstanceRecords;
  catalog: ServiceCatalog;
  health: HealthWatcher;
  log: Logger;
}

/**
 * After a restart of the control plane: instances that are recorded and still running are
 * adopted (ready ones keep serving without waiting for a new health check); recorded ones
 * that are gone are marked stopped (the steady-state reconcile replaces them); running
 * ones nobody recorded are strays and stopped, and so are ones that were draining.
 */
export async function adoptInstances(
  deps: AdoptDeps,
): Promise<{ adopted: string[]; lost: string[]; strays: string[] }> {
  const { runtime, instances, catalog, health, log } = deps;
  const running = new Map((await runtime.list()).filter((p) => p.state !== "stopped").map((p) => [p.id, p]));
  const adopted: string[] = [];
  const lost: string[] = [];
  for (const record of await instances.alive()) {
    const process = running.get(record.id);
    running.delete(record.id);
    const service = await catalog.find(record.service);
    // A draining instance was already out of rotation when the control plane stopped: finish the job.
    if (!process || !service || record.state === "draining") {
      if (process) await runtime.stop(record.id).catch(() => undefined);
      await instances.setState(record.id, "stopped");
      lost.push(record.id);
      continue;
    }
    health.watch(
      record.id,
      record.port,
      service.spec.healthCheck,
      record.state === "ready" ? "healthy" : "unknown",
    );
    adopted.push(record.id);
  }
  const strays = [...running.keys()];
  await Promise.all(strays.map((id) => runtime.stop(id).catch(() => undefined)));
  if (adopted.length + lost.length + strays.length > 0)
    log.info({ adopted, lost, strays }, "re-attached to instances");
  return { adopted, lost, strays };
}
