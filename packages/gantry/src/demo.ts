import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { AuditLog } from "./audit/index.ts";
import { serviceSpec, sloSpec } from "./config/index.ts";
import type { RolloutOrchestrator } from "./rollout/index.ts";
import type { ReleaseIntake, ServiceCatalog } from "./services/index.ts";
import type { SloCatalog } from "./slo/index.ts";

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

/**
 * The demo's availability SLO, so that a newcomer sees one from the first start: 99.9% of
 * requests answered without a 5xx over 28 days, alerting by the SRE workbook's burn rates.
 * One of the same name in gantry.yaml wins.
 */
export async function declareDemoSlo(deps: { slos: SloCatalog; audit: AuditLog }): Promise<void> {
  if ((await deps.slos.list()).some((s) => s.name === "demo-availability")) return;
  const spec = sloSpec.parse({
    service: "demo",
    description: "Requests to the demo answered without a server error",
    sli: { type: "availability" },
    objective: "99.9%",
    window: "28d",
  });
  await deps.slos.put([{ name: "demo-availability", spec }], "demo");
  await deps.audit.record({
    actor: "gantry up --demo",
    action: "slo.declared",
    service: "demo",
    subject: "slo/demo-availability",
    data: { source: "demo" },
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
