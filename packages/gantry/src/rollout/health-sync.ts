import type { Logger } from "pino";
import type { InstanceRecords } from "./instance-records.ts";
import type { HealthWatcher } from "./ports.ts";
import type { TrafficController } from "./traffic-controller.ts";

/**
 * Health changes reach the router: an instance that passes its first health check becomes
 * ready and joins rotation; one that turns unhealthy (crashed, hanging) leaves rotation
 * until it recovers.
 */
export function syncHealthToTraffic(
  health: HealthWatcher,
  instances: InstanceRecords,
  traffic: TrafficController,
  log: Logger,
): void {
  health.onChange((id, status) => {
    void (async () => {
      const record = await instances.get(id);
      if (!record) return;
      if (status === "healthy" && record.state === "starting") await instances.setState(id, "ready");
      log.info({ instance: id, status }, "instance health changed");
      await traffic.publish();
    })().catch((error) => log.error({ err: error, instance: id }, "could not apply a health change"));
  });
}
