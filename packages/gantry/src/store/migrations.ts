import { type Kysely, type Migration, type MigrationProvider, sql } from "kysely";

export type Dialect = "sqlite" | "postgres";

/** Gantry's schema history. Append only: a released migration is never edited. */
export function migrations(dialect: Dialect): Record<string, Migration> {
  const serial = dialect === "postgres" ? "serial" : "integer";
  return {
    "0001_spine": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("services")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("spec", "text", (c) => c.notNull())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("releases")
          .addColumn("service", "text", (c) => c.notNull())
          .addColumn("version", "text", (c) => c.notNull())
          .addColumn("checksum", "text", (c) => c.notNull())
          .addColumn("dir", "text", (c) => c.notNull())
          .addColumn("env", "text", (c) => c.notNull())
          .addColumn("files", "integer", (c) => c.notNull())
          .addColumn("bytes", "bigint", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("releases_pk", ["service", "version"])
          .execute();
        await db.schema
          .createTable("rollouts")
          .addColumn("id", serial, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("service", "text", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("from_version", "text")
          .addColumn("to_version", "text", (c) => c.notNull())
          .addColumn("strategy", "text", (c) => c.notNull())
          .addColumn("plan", "text", (c) => c.notNull())
          .addColumn("step", "integer", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("failure", "text")
          .addColumn("abort_requested", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("reason", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("finished_at", "text")
          .execute();
        await db.schema.createIndex("rollouts_service").on("rollouts").columns(["service", "id"]).execute();
        await db.schema
          .createTable("instances")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("service", "text", (c) => c.notNull())
          .addColumn("version", "text", (c) => c.notNull())
          .addColumn("port", "integer", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("instances_service")
          .on("instances")
          .columns(["service", "state"])
          .execute();
        await db.schema
          .createTable("service_state")
          .addColumn("service", "text", (c) => c.primaryKey())
          .addColumn("live_version", "text")
          .addColumn("traffic", "text", (c) => c.notNull())
          .addColumn("mode", "text", (c) => c.notNull())
          .addColumn("idle", "text")
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("audit_events")
          .addColumn("id", serial, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("service", "text")
          .addColumn("subject", "text")
          .addColumn("reason", "text")
          .addColumn("data", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("audit_events_at").on("audit_events").columns(["at"]).execute();
        await db.schema
          .createTable("tokens")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("hash", "text", (c) => c.notNull().unique())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("last_used_at", "text")
          .execute();
        await db.schema
          .createTable("meta")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .execute();
        await sql`select 1`.execute(db);
      },
    },
    "0002_degrade_and_release_policy": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("service_state")
          .addColumn("switches", "text", (c) => c.notNull().defaultTo("{}"))
          .execute();
        await db.schema
          .alterTable("releases")
          .addColumn("requires", "text", (c) => c.notNull().defaultTo("{}"))
          .execute();
        await db.schema.alterTable("rollouts").addColumn("approval", "text").execute();
        await db.schema
          .createTable("freezes")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("spec", "text", (c) => c.notNull())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0003_experiments": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("experiments")
          .addColumn("name", "text", (c) => c.primaryKey())
          /** All-time counters as JSON: runs, matched, mismatched, ignored, and per behaviour runs/errors/timeouts. */
          .addColumn("counts", "text", (c) => c.notNull())
          .addColumn("first_at", "text", (c) => c.notNull())
          .addColumn("last_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("experiment_runs")
          .addColumn("id", serial, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("outcome", "text", (c) => c.notNull())
          /** The run as JSON: timings of every behaviour; the whole wire result when it mismatched. */
          .addColumn("data", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("experiment_runs_name")
          .on("experiment_runs")
          .columns(["name", "id"])
          .execute();
      },
    },
    "0004_experiment_result_ids": {
      async up(db: Kysely<unknown>) {
        /** The id a publisher gives each result, the same on every retry: a resent result is dropped. */
        await db.schema.alterTable("experiment_runs").addColumn("result_id", "text").execute();
        await db.schema
          .createIndex("experiment_runs_result_id")
          .unique()
          .on("experiment_runs")
          .column("result_id")
          .execute();
      },
    },
    "0005_flags": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("tokens").addColumn("environment", "text").execute();
        await db.schema
          .createIndex("audit_events_subject")
          .on("audit_events")
          .columns(["subject", "id"])
          .execute();
        await db.schema
          .createTable("flags")
          .addColumn("key", "text", (c) => c.primaryKey())
          /** The flag in the evaluator's format as JSON, every configured environment in it. */
          .addColumn("definition", "text", (c) => c.notNull())
          /** Grows by one on every change of this flag (optimistic concurrency). */
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("updated_by", "text", (c) => c.notNull())
          .execute();
        for (const table of ["flag_segments", "flag_plans"]) {
          await db.schema
            .createTable(table)
            .addColumn("key", "text", (c) => c.primaryKey())
            .addColumn("definition", "text", (c) => c.notNull())
            .addColumn("updated_at", "text", (c) => c.notNull())
            .addColumn("updated_by", "text", (c) => c.notNull())
            .execute();
        }
        await db.schema
          .createTable("flag_revisions")
          .addColumn("environment", "text", (c) => c.primaryKey())
          /** Grows whenever what this environment's SDKs receive changes. */
          .addColumn("revision", "integer", (c) => c.notNull())
          /** sha256 of the environment's flag set, to tell whether it changed. */
          .addColumn("digest", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("flag_schedules")
          .addColumn("id", serial, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("flag_key", "text", (c) => c.notNull())
          .addColumn("environment", "text", (c) => c.notNull())
          .addColumn("at", "text", (c) => c.notNull())
          /** What to set in the flag's environment, as JSON. */
          .addColumn("change", "text", (c) => c.notNull())
          /** pending | applied | failed | cancelled */
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("reason", "text")
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("done_at", "text")
          .addColumn("done_by", "text")
          /** Why it failed, or who cancelled it and why. */
          .addColumn("outcome", "text")
          .execute();
        await db.schema
          .createIndex("flag_schedules_status")
          .on("flag_schedules")
          .columns(["status", "at"])
          .execute();
        await db.schema
          .createTable("flag_usage")
          .addColumn("flag_key", "text", (c) => c.notNull())
          .addColumn("environment", "text", (c) => c.notNull())
          .addColumn("variant", "text", (c) => c.notNull())
          .addColumn("count", "bigint", (c) => c.notNull())
          .addColumn("first_at", "text", (c) => c.notNull())
          .addColumn("last_at", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("flag_usage_pk", ["flag_key", "environment", "variant"])
          .execute();
      },
    },
    "0006_rollout_analysis": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("rollouts").addColumn("analysis", "text").execute();
        await db.schema.alterTable("rollouts").addColumn("promoted_step", "integer").execute();
      },
    },
    "0007_rollout_control": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("rollouts").addColumn("control", "text").execute();
      },
    },
    "0008_flag_bisects": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("flag_bisects")
          .addColumn("id", serial, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          /** The environment whose flags it changes while it runs. */
          .addColumn("target", "text", (c) => c.notNull())
          /** running | found | not-a-flag | failed | cancelled | interrupted */
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("started_at", "text", (c) => c.notNull())
          .addColumn("finished_at", "text")
          /** The whole record as JSON, with what to restore: written before every change it makes. */
          .addColumn("record", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("flag_bisects_status").on("flag_bisects").columns(["status"]).execute();
      },
    },
    "0009_slis_and_slos": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("sli_points")
          .addColumn("service", "text", (c) => c.notNull())
          .addColumn("version", "text", (c) => c.notNull())
          /** 0: a fine point as sampled; 1: a coarse point summing the fine points of its interval. */
          .addColumn("tier", "integer", (c) => c.notNull())
          /** Length of the interval the point covers, ms. */
          .addColumn("span", "integer", (c) => c.notNull())
          /** End of that interval, ms since the epoch. */
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("requests", "bigint", (c) => c.notNull())
          /** Requests answered 5xx (or not at all). */
          .addColumn("errors", "bigint", (c) => c.notNull())
          /** Requests per latency bucket as JSON {upper bound in ms or "+Inf": count}, non-empty buckets only. */
          .addColumn("latency", "text", (c) => c.notNull())
          /** CPU seconds the version's instances used in the interval; null when the runtime did not say. */
          .addColumn("cpu_seconds", "real")
          /** Resident memory of the version's instances at the end of the interval, bytes. */
          .addColumn("rss_bytes", "bigint")
          .addPrimaryKeyConstraint("sli_points_pk", ["tier", "service", "version", "at"])
          .execute();
        await db.schema.createIndex("sli_points_at").on("sli_points").columns(["tier", "at"]).execute();
        await db.schema
          .createTable("slos")
          .addColumn("name", "text", (c) => c.primaryKey())
          /** The SLO as declared (input form) as JSON. */
          .addColumn("spec", "text", (c) => c.notNull())
          /** "config" (gantry.yaml), "demo", "api" or "openslo". */
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0010_incidents": {
      async up(db: Kysely<unknown>) {
        const id = (table: string) =>
          db.schema
            .createTable(table)
            .addColumn("id", serial, (c) =>
              dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
            );
        await id("incidents")
          .addColumn("title", "text", (c) => c.notNull())
          .addColumn("service", "text")
          /** critical | high | medium | low */
          .addColumn("severity", "text", (c) => c.notNull())
          /** triggered | acknowledged | mitigated | resolved */
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("dedup_key", "text", (c) => c.notNull())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("acknowledged_at", "text")
          .addColumn("acknowledged_by", "text")
          .addColumn("mitigated_at", "text")
          .addColumn("mitigated_by", "text")
          .addColumn("resolved_at", "text")
          .addColumn("resolved_by", "text")
          /** The postmortem as JSON; null until written. */
          .addColumn("postmortem", "text")
          .addColumn("postmortem_at", "text")
          .execute();
        await db.schema
          .createIndex("incidents_dedup")
          .on("incidents")
          .columns(["dedup_key", "status"])
          .execute();
        await id("alerts")
          /** The condition's identity: a later report with the same key updates or resolves it. */
          .addColumn("alert_key", "text", (c) => c.notNull())
          .addColumn("dedup_key", "text", (c) => c.notNull())
          .addColumn("incident_id", "integer", (c) => c.notNull())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("service", "text")
          .addColumn("severity", "text", (c) => c.notNull())
          .addColumn("summary", "text", (c) => c.notNull())
          .addColumn("details", "text", (c) => c.notNull())
          /** firing | resolved */
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("first_at", "text", (c) => c.notNull())
          .addColumn("last_at", "text", (c) => c.notNull())
          .addColumn("resolved_at", "text")
          .execute();
        await db.schema.createIndex("alerts_key").on("alerts").columns(["alert_key", "status"]).execute();
        await db.schema.createIndex("alerts_incident").on("alerts").columns(["incident_id"]).execute();
        await id("incident_events")
          .addColumn("incident_id", "integer", (c) => c.notNull())
          .addColumn("at", "text", (c) => c.notNull())
          /** alert.fired | alert.resolved | status | note | change | page | postmortem */
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("data", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("incident_events_incident")
          .on("incident_events")
          .columns(["incident_id", "at"])
          .execute();
      },
    },
    "0011_pages": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("pages")
          .addColumn("id", serial, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("incident_id", "integer", (c) => c.notNull())
          /** trigger | acknowledge | resolve */
          .addColumn("kind", "text", (c) => c.notNull())
          /** Escalation round and level (0-based); -1 for acknowledge and resolve. */
          .addColumn("round", "integer", (c) => c.notNull())
          .addColumn("level", "integer", (c) => c.notNull())
          .addColumn("person", "text", (c) => c.notNull())
          .addColumn("notifier", "text", (c) => c.notNull())
          /** The contact as JSON {to?, mention?}. */
          .addColumn("target", "text", (c) => c.notNull())
          /** The schedule and layer that made the person a target, as JSON; null when named directly. */
          .addColumn("via", "text")
          /** pending | sent | failed | cancelled */
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull())
          .addColumn("next_attempt_at", "text", (c) => c.notNull())
          .addColumn("last_error", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("sent_at", "text")
          .execute();
        // One page per incident, kind, step, person and notifier: planning again after a restart adds none twice.
        await db.schema
          .createIndex("pages_unique")
          .unique()
          .on("pages")
          .columns(["incident_id", "kind", "round", "level", "person", "notifier"])
          .execute();
        await db.schema.createIndex("pages_due").on("pages").columns(["status", "next_attempt_at"]).execute();
        await db.schema
          .createTable("oncall_overrides")
          .addColumn("id", serial, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("schedule", "text", (c) => c.notNull())
          .addColumn("person", "text", (c) => c.notNull())
          .addColumn("from_at", "text", (c) => c.notNull())
          .addColumn("to_at", "text", (c) => c.notNull())
          .addColumn("reason", "text")
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0012_oncall_declarations": {
      async up(db: Kysely<unknown>) {
        // People, schedules, policies and routes declared through the API (gantry.yaml's are
        // read from the file at each start), in their gantry.yaml form as JSON.
        await db.schema
          .createTable("oncall_declarations")
          /** person | schedule | policy | route */
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("spec", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_by", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("oncall_declarations_pk", ["kind", "name"])
          .execute();
        // The policy an incident escalates by, fixed when its escalation starts: a later change
        // or deletion of the policy or its route applies to new incidents only.
        await db.schema
          .createTable("escalations")
          .addColumn("incident_id", "integer", (c) => c.primaryKey())
          .addColumn("policy", "text", (c) => c.notNull())
          /** The EscalationPolicy as JSON (delays in ms). */
          .addColumn("spec", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
      },
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
