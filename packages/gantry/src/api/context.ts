import type { AuditLog } from "../audit/index.ts";
import type { TokenService } from "../auth/index.ts";
import type { ExperimentStore } from "../experiments/index.ts";
import type { Flags } from "../flags/index.ts";
import type { IncidentService } from "../incidents/index.ts";
import type { Switchboard } from "../modes/index.ts";
import type { OncallDirectory, Pager } from "../oncall/index.ts";
import type { FreezeStore } from "../policy/index.ts";
import type { InstanceRecords, RolloutOrchestrator, RolloutRecords, StatusDeps } from "../rollout/index.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { ReleaseIntake, ServiceCatalog } from "../services/index.ts";
import type { SloService } from "../slo/index.ts";

/** The feature services the API's routes call; built once in main.ts. */
export interface ApiContext extends StatusDeps {
  catalog: ServiceCatalog;
  rollouts: RolloutRecords;
  instances: InstanceRecords;
  orchestrator: RolloutOrchestrator;
  intake: ReleaseIntake;
  audit: AuditLog;
  tokens: TokenService;
  switchboard: Switchboard;
  experiments: ExperimentStore;
  flags: Flags;
  freezes: FreezeStore;
  runtime: Runtime;
  /** Called with the experiments a batch of results was about (their alert rules are re-checked). */
  experimentsReported?: (names: string[]) => void;
  /** Signs pin tickets (X-Gantry-Pin) for `gantry pin`. */
  pinKey: Buffer;
  slos: SloService;
  incidents: IncidentService;
  oncall: OncallDirectory;
  pager: Pager;
  /** Prometheus text of the control plane and the router. */
  metrics: () => Promise<string>;
}
