import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { AuditLog } from "./audit/index.ts";
import { serviceSpec } from "./config/index.ts";
import type { RolloutOrchestrator } from "./rollout/index.ts";
import type { ReleaseIntake, ServiceCatalog } from "./services/index.ts";

/** examples/demo-app in this checkout: the demo's first release. */
export const demoAppDir = fileURLToPath(new URL("../../../examples/demo-app", import.meta.url));

/** `gantry up --demo`: the demo service, answering demo.localhost and every otherwise unrouted request. */
export async function declareDemo(deps: {
  dataDir: string;
  catalog: ServiceCatalog;
  audit: AuditLog;
}): Promise<void> {
  if (await deps.catalog.find("demo")) return;
  const spec = serviceSpec.parse({
    command: "node server.ts",
    instances: 2,
    route: { hosts: ["demo.localhost"], default: true },
    healthCheck: { path: "/healthz", interval: "1s", deadline: "30s" },
    // Items live outside the release, so every version sees the same data.
    env: { DEMO_DB: `${deps.dataDir}/demo-data.sqlite` },
    stopTimeout: "10s",
    strategy: { type: "rolling", maxSurge: 1, maxUnavailable: 0 },
  });
  await deps.catalog.put("demo", spec, "config");
  await deps.audit.record({
    actor: "gantry up --demo",
    action: "service.declared",
    service: "demo",
    data: { spec },
  });
}

export async function deployDemoIfNothingLive(deps: {
  dataDir: string;
  catalog: ServiceCatalog;
  intake: ReleaseIntake;
  orchestrator: RolloutOrchestrator;
  log: Logger;
}): Promise<void> {
  const state = await deps.catalog.state("demo");
  if (state.liveVersion || deps.orchestrator.isRunning("demo")) return;
  try {
    await deps.intake.acceptPath({
      service: "demo",
      version: "v1",
      artifactPath: demoAppDir,
      env: {},
      actor: "gantry up --demo",
    });
    await deps.orchestrator.deploy({
      service: "demo",
      version: "v1",
      actor: "gantry up --demo",
      role: "admin",
      reason: "first start of the demo",
    });
  } catch (error) {
    deps.log.error({ err: error }, "could not deploy the demo");
  }
}
