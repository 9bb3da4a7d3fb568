import type { Kysely, Selectable } from "kysely";
import type { CheckResult, CustomCheckResult, Verdict } from "../analysis/index.ts";
import type { Database } from "../store/index.ts";
import type { Step } from "./plan.ts";

export type RolloutStatus =
  | "awaiting_approval"
  | "running"
  | "rolling_back"
  | "succeeded"
  | "failed"
  | "rolled_back";
export const finishedStatuses: readonly RolloutStatus[] = ["succeeded", "failed", "rolled_back"];

export interface RolloutFailure {
  reason: string;
  /** The last lines of each failing instance's log. */
  logs?: Record<string, string>;
  /** The candidate ran and was judged worse (not: could not start, aborted by hand). */
  judged?: boolean;
}

/** The latest look of a canary analysis, with the numbers behind it. */
export interface AnalysisRecord {
  /** The rollout step (index) the analysis belongs to. */
  step: number;
  verdict: Verdict;
  checks: CheckResult[];
  /** The custom checks' latest results (Prometheus, HTTP, command, webhook); absent before they existed. */
  custom?: CustomCheckResult[];
  /** A shadow comparison's counts: answers compared, how many differed, the latest differences. */
  shadow?: {
    compared: number;
    matched: number;
    mismatched: number;
    errors: number;
    skipped: number;
    mismatchRate: number;
    latencyIncreaseMs: number;
    pValue: number;
    summary: string;
    recent: { at: string; method: string; path: string; reason: string }[];
  };
  /** When the analysis started and when this verdict was reached. */
  startedAt: string;
  at: string;
}

/** What operators did to a running rollout by hand. */
export interface RolloutControl {
  /** Held before its next step (`gantry pause`) until `gantry resume`. */
  paused?: { by: string; at: string; reason: string | null };
  /** `gantry promote --full`: the remaining analyses and pauses are skipped. */
  full?: boolean;
}

export interface Rollout {
  id: number;
  service: string;
  kind: "deploy" | "rollback";
  fromVersion: string | null;
  toVersion: string;
  strategy: string;
  steps: Step[];
  step: number;
  status: RolloutStatus;
  failure: RolloutFailure | null;
  abortRequested: boolean;
  /** Set when the service needs a second person's approval: who approved, when. */
  approval: { approvedBy: string | null; at: string | null } | null;
  /** The latest canary analysis verdict; null before any. */
  analysis: AnalysisRecord | null;
  /** The step at which `gantry promote` was given. */
  promotedStep: number | null;
  control: RolloutControl;
  actor: string;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export type NewRollout = Partial<Pick<Rollout, "status" | "approval">> &
  Pick<Rollout, "service" | "kind" | "fromVersion" | "toVersion" | "strategy" | "steps" | "actor" | "reason">;

/** Rollouts as stored: every transition is committed here before the engine acts on it. */
export class RolloutRecords {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  async create(input: NewRollout): Promise<Rollout> {
    const now = this.#now().toISOString();
    const { id } = await this.#db
      .insertInto("rollouts")
      .values({
        service: input.service,
        kind: input.kind,
        from_version: input.fromVersion,
        to_version: input.toVersion,
        strategy: input.strategy,
        plan: JSON.stringify(input.steps),
        step: 0,
        status: input.status ?? "running",
        failure: null,
        abort_requested: 0,
        approval: input.approval ? JSON.stringify(input.approval) : null,
        analysis: null,
        promoted_step: null,
        control: null,
        actor: input.actor,
        reason: input.reason,
        created_at: now,
        updated_at: now,
        finished_at: null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return this.get(Number(id));
  }

  async get(id: number): Promise<Rollout> {
    const row = await this.#db
      .selectFrom("rollouts")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    return toRollout(row);
  }

  async find(id: number): Promise<Rollout | undefined> {
    const row = await this.#db.selectFrom("rollouts").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toRollout(row) : undefined;
  }

  async active(service?: string): Promise<Rollout[]> {
    let q = this.#db
      .selectFrom("rollouts")
      .selectAll()
      .where("status", "in", ["awaiting_approval", "running", "rolling_back"]);
    if (service) q = q.where("service", "=", service);
    return (await q.orderBy("id").execute()).map(toRollout);
  }

  async history(service: string, limit = 100): Promise<Rollout[]> {
    const rows = await this.#db
      .selectFrom("rollouts")
      .selectAll()
      .where("service", "=", service)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toRollout);
  }

  /** The newest finished deploy or rollback that made `version` live. */
  async lastSucceededTo(service: string, version: string): Promise<Rollout | undefined> {
    const row = await this.#db
      .selectFrom("rollouts")
      .selectAll()
      .where("service", "=", service)
      .where("to_version", "=", version)
      .where("status", "=", "succeeded")
      .orderBy("id", "desc")
      .executeTakeFirst();
    return row ? toRollout(row) : undefined;
  }

  async update(
    id: number,
    change: Partial<
      Pick<
        Rollout,
        | "step"
        | "status"
        | "failure"
        | "abortRequested"
        | "approval"
        | "analysis"
        | "promotedStep"
        | "control"
      >
    >,
  ): Promise<void> {
    const now = this.#now().toISOString();
    const finished = change.status !== undefined && finishedStatuses.includes(change.status);
    await this.#db
      .updateTable("rollouts")
      .set({
        ...(change.step !== undefined && { step: change.step }),
        ...(change.status !== undefined && { status: change.status }),
        ...(change.failure !== undefined && {
          failure: change.failure ? JSON.stringify(change.failure) : null,
        }),
        ...(change.abortRequested !== undefined && { abort_requested: change.abortRequested ? 1 : 0 }),
        ...(change.approval !== undefined && {
          approval: change.approval ? JSON.stringify(change.approval) : null,
        }),
        ...(change.analysis !== undefined && {
          analysis: change.analysis ? JSON.stringify(change.analysis) : null,
        }),
        ...(change.promotedStep !== undefined && { promoted_step: change.promotedStep }),
        ...(change.control !== undefined && { control: JSON.stringify(change.control) }),
        ...(finished && { finished_at: now }),
        updated_at: now,
      })
      .where("id", "=", id)
      .execute();
  }
}

function toRollout(row: Selectable<Database["rollouts"]>): Rollout {
  return {
    id: Number(row.id),
    service: row.service,
    kind: row.kind as Rollout["kind"],
    fromVersion: row.from_version,
    toVersion: row.to_version,
    strategy: row.strategy,
    steps: JSON.parse(row.plan),
    step: row.step,
    status: row.status as RolloutStatus,
    failure: row.failure ? JSON.parse(row.failure) : null,
    abortRequested: row.abort_requested === 1,
    approval: row.approval ? JSON.parse(row.approval) : null,
    analysis: row.analysis ? JSON.parse(row.analysis) : null,
    promotedStep: row.promoted_step,
    control: row.control ? JSON.parse(row.control) : {},
    actor: row.actor,
    reason: row.reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
