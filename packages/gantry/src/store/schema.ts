import type { Generated } from "kysely";

/** Gantry's own tables. Times are ISO-8601 strings; structured values are JSON text. */
export interface Database {
  services: ServicesTable;
  releases: ReleasesTable;
  rollouts: RolloutsTable;
  instances: InstancesTable;
  service_state: ServiceStateTable;
  audit_events: AuditEventsTable;
  tokens: TokensTable;
  meta: MetaTable;
  freezes: FreezesTable;
  experiments: ExperimentsTable;
  experiment_runs: ExperimentRunsTable;
  flags: FlagsTable;
  flag_segments: FlagPartsTable;
  flag_plans: FlagPartsTable;
  flag_revisions: FlagRevisionsTable;
  flag_schedules: FlagSchedulesTable;
  flag_usage: FlagUsageTable;
  flag_bisects: FlagBisectsTable;
  sli_points: SliPointsTable;
  slos: SlosTable;
  incidents: IncidentsTable;
  alerts: AlertsTable;
  incident_events: IncidentEventsTable;
  pages: PagesTable;
  oncall_overrides: OncallOverridesTable;
  oncall_declarations: OncallDeclarationsTable;
  escalations: EscalationsTable;
}

export interface OncallDeclarationsTable {
  kind: string;
  name: string;
  spec: string;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
}

export interface EscalationsTable {
  incident_id: number;
  policy: string;
  spec: string;
  created_at: string;
}

export interface PagesTable {
  id: Generated<number>;
  incident_id: number;
  kind: string;
  round: number;
  level: number;
  person: string;
  notifier: string;
  target: string;
  via: string | null;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface OncallOverridesTable {
  id: Generated<number>;
  schedule: string;
  person: string;
  from_at: string;
  to_at: string;
  reason: string | null;
  created_by: string;
  created_at: string;
}

export interface IncidentsTable {
  id: Generated<number>;
  title: string;
  service: string | null;
  severity: string;
  status: string;
  dedup_key: string;
  source: string;
  created_at: string;
  updated_at: string;
  acknowledged_at: Generated<string | null>;
  acknowledged_by: Generated<string | null>;
  mitigated_at: Generated<string | null>;
  mitigated_by: Generated<string | null>;
  resolved_at: Generated<string | null>;
  resolved_by: Generated<string | null>;
  postmortem: Generated<string | null>;
  postmortem_at: Generated<string | null>;
}

export interface AlertsTable {
  id: Generated<number>;
  alert_key: string;
  dedup_key: string;
  incident_id: number;
  source: string;
  service: string | null;
  severity: string;
  summary: string;
  details: string;
  status: string;
  first_at: string;
  last_at: string;
  resolved_at: Generated<string | null>;
}

export interface IncidentEventsTable {
  id: Generated<number>;
  incident_id: number;
  at: string;
  kind: string;
  actor: string;
  text: string;
  data: string;
}

export interface SliPointsTable {
  /** The service; "@prometheus" for the SLIs read from Prometheus (slo/prometheus-sli.ts). */
  service: string;
  /** The build version; for a Prometheus SLI, a digest of its URL and queries. */
  version: string;
  /** 0 fine, 1 coarse. */
  tier: number;
  span: number;
  at: number;
  /** Events (requests); Prometheus SLIs' counts may be fractional (increase() extrapolates). */
  requests: number;
  /** Bad events (5xx). */
  errors: number;
  /** JSON {upper bound in ms or "+Inf": count}, non-empty buckets only. */
  latency: string;
  cpu_seconds: number | null;
  rss_bytes: number | null;
}

export interface SlosTable {
  name: string;
  /** The SLO as declared, JSON. */
  spec: string;
  /** config | demo | api | openslo */
  source: string;
  created_at: string;
  updated_at: string;
}

export interface FlagBisectsTable {
  id: Generated<number>;
  target: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  record: string;
}

export interface FlagsTable {
  key: string;
  /** The flag in the evaluator's format as JSON. */
  definition: string;
  version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/** Segments and plans: a key and the definition in the evaluator's format. */
export interface FlagPartsTable {
  key: string;
  definition: string;
  updated_at: string;
  updated_by: string;
}

export interface FlagRevisionsTable {
  environment: string;
  revision: number;
  digest: string;
  updated_at: string;
}

export interface FlagSchedulesTable {
  id: Generated<number>;
  flag_key: string;
  environment: string;
  at: string;
  change: string;
  /** pending | applied | failed | cancelled */
  status: string;
  reason: string | null;
  created_by: string;
  created_at: string;
  done_at: string | null;
  done_by: string | null;
  outcome: string | null;
}

export interface FlagUsageTable {
  flag_key: string;
  environment: string;
  variant: string;
  count: number;
  first_at: string;
  last_at: string;
}

export interface ExperimentsTable {
  name: string;
  counts: string;
  first_at: string;
  last_at: string;
}

export interface ExperimentRunsTable {
  id: Generated<number>;
  name: string;
  at: string;
  /** matched | mismatched | ignored */
  outcome: string;
  data: string;
  /** The publisher's id of the result (null from publishers that send none). */
  result_id: string | null;
}

export interface FreezesTable {
  id: string;
  /** The FreezeSpec as JSON. */
  spec: string;
  /** "config" (gantry.yaml) or "api". */
  source: string;
  created_by: string;
  created_at: string;
}

export interface ServicesTable {
  name: string;
  /** The declared ServiceSpec as JSON. */
  spec: string;
  /** "config" (from gantry.yaml) or "api". */
  source: string;
  created_at: string;
  updated_at: string;
}

export interface ReleasesTable {
  service: string;
  version: string;
  checksum: string;
  dir: string;
  /** Release env (--env) as JSON. */
  env: string;
  files: number;
  bytes: number;
  created_at: string;
  created_by: string;
  /** What the release needs of other services as JSON: {service: semver range}. */
  requires: Generated<string>;
}

export interface RolloutsTable {
  id: Generated<number>;
  service: string;
  /** "deploy" or "rollback". */
  kind: string;
  from_version: string | null;
  to_version: string;
  strategy: string;
  /** The strategy parameters and the planned steps as JSON. */
  plan: string;
  /** Index of the step being carried out. */
  step: number;
  /** running | rolling_back | succeeded | failed | rolled_back */
  status: string;
  /** Why it failed or was rolled back, with log tails, as JSON; null while fine. */
  failure: string | null;
  abort_requested: number;
  /** Approval as JSON {required, by, at}; null when the service needs none. */
  approval: string | null;
  /** The latest verdict of a canary analysis as JSON (AnalysisRecord); null before any. */
  analysis: string | null;
  /** The step index at which `gantry promote` was given; null when it was not. */
  promoted_step: number | null;
  /** Operator control of a running rollout as JSON (RolloutControl): paused, promoted in full. */
  control: string | null;
  actor: string;
  reason: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface InstancesTable {
  id: string;
  service: string;
  version: string;
  port: number;
  /** starting | ready | failed | draining | stopped */
  state: string;
  created_at: string;
  updated_at: string;
}

export interface ServiceStateTable {
  service: string;
  /** The version that serves all traffic when no rollout runs; null before the first deploy. */
  live_version: string | null;
  /** Traffic weights by version as JSON: [{version, weight}]. */
  traffic: string;
  /** normal | maintenance */
  mode: string;
  /** A previous colour kept running, idle, as JSON {version, until}; null if none. */
  idle: string | null;
  /** Operator switches as JSON: {mode?, breaker?, lock?}. */
  switches: Generated<string>;
  updated_at: string;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  service: string | null;
  subject: string | null;
  reason: string | null;
  data: string;
}

export interface TokensTable {
  id: string;
  name: string;
  role: string;
  /** sha256 of the token; the token itself is never stored. */
  hash: string;
  created_at: string;
  last_used_at: string | null;
  /** The flag environment an sdk token reads (SDK sync, OFREP); null for other tokens. */
  environment: Generated<string | null>;
}

export interface MetaTable {
  key: string;
  value: string;
}
