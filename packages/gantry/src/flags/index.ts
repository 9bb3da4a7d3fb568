import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/index.ts";
import type { Database } from "../store/index.ts";
import { BisectStore } from "./bisect-store.ts";
import { FlagBisects } from "./flag-bisects.ts";
import type { FlagEnvironment } from "./flag-model.ts";
import { FlagSchedules } from "./flag-schedules.ts";
import { FlagService } from "./flag-service.ts";
import { FlagStore } from "./flag-store.ts";
import { FlagStreams } from "./flag-streams.ts";
import { FlagUsage } from "./flag-usage.ts";
import { refetchEvent } from "./ofrep.ts";

export { parseCheck } from "./bisect-check.ts";
export type { Probes as BisectProbes } from "./bisect-probe.ts";
export type { BisectRecord, BisectStatus } from "./bisect-store.ts";
export { environmentFor, matchesEtag } from "./flag-access.ts";
export { type BisectPlan, type BisectRequest, FlagBisects, prefixWords } from "./flag-bisects.ts";
export { type ItemChange, itemChanges } from "./flag-changes.ts";
export { describeChange, diffValues, type FieldChange } from "./flag-diff.ts";
export {
  applyDocument,
  type CandidateSet,
  createFlag,
  type FlagDocument,
  killFlag,
  patchEnvironment,
  putPart,
  removeFlag,
  removePart,
  replaceFlag,
  requireEnvironment,
  requireFlag,
  setEnvironment,
} from "./flag-edits.ts";
export {
  type FlagLifecycle,
  lifecycleOf,
  type StaleFlag,
  staleFlags,
  type UsageRow,
} from "./flag-lifecycle.ts";
export type { FlagEnvironment, FlagMeta, FlagState } from "./flag-model.ts";
export {
  dueChanges,
  type EnvironmentPatch,
  FlagSchedules,
  type ScheduledChange,
  type ScheduleStatus,
} from "./flag-schedules.ts";
export { type ChangeBy, type ChangeResult, FlagService, type FlagSnapshot } from "./flag-service.ts";
export { FlagStreams } from "./flag-streams.ts";
export { FlagUsage, type ServedCount } from "./flag-usage.ts";
export {
  bulkEtag,
  bulkJson,
  etagMatches,
  eventStreamsMember,
  type OfrepErrorCode,
  ofrepErrorBody,
  ofrepEvaluationJson,
  ofrepStatus,
  parseEvaluationRequest,
  readsClock,
} from "./ofrep.ts";

/** The flags feature as main.ts wires it: the service, what flags served, SSE streams, scheduled changes. */
export interface Flags {
  service: FlagService;
  usage: FlagUsage;
  /** SDK sync: every revision's whole flag set. */
  streams: FlagStreams;
  /** OFREP change notifications (ADR-0008): a refetchEvaluation message per revision. */
  ofrepStreams: FlagStreams;
  schedules: FlagSchedules;
  bisects: FlagBisects;
  /** Restores running bisections, ends the streams and writes pending counts (Ctrl-C). */
  close(): Promise<void>;
}

export async function openFlags(deps: {
  db: Kysely<Database>;
  audit: AuditLog;
  environments: readonly FlagEnvironment[];
  now: () => Date;
  log: Logger;
}): Promise<Flags> {
  const usage = new FlagUsage(deps.db, deps.now);
  const service = await FlagService.open({
    store: new FlagStore(deps.db),
    audit: deps.audit,
    environments: deps.environments,
    now: deps.now,
    log: deps.log,
    onServed: (environment, flagKey, variant) => usage.served(environment, flagKey, variant),
  });
  const streams = new FlagStreams(service);
  const ofrepStreams = new FlagStreams(service, {
    event: (snapshot, first) =>
      refetchEvent(String(snapshot.revision), snapshot.etag, first ? { retryMs: 1000 } : {}),
  });
  const schedules = new FlagSchedules({
    db: deps.db,
    flags: service,
    audit: deps.audit,
    now: deps.now,
    log: deps.log,
  });
  const bisects = new FlagBisects({
    flags: service,
    audit: deps.audit,
    store: new BisectStore(deps.db),
    now: deps.now,
    log: deps.log,
  });
  // Before anything else changes flags: a bisection a crash interrupted is set back first.
  await bisects.recover();
  usage.start();
  await schedules.start();
  return {
    service,
    usage,
    streams,
    ofrepStreams,
    schedules,
    bisects,
    async close() {
      await bisects.close();
      streams.close();
      ofrepStreams.close();
      await schedules.stop();
      await usage.stop();
    },
  };
}
