import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/index.ts";
import { GantryError, isGantryError } from "../errors/index.ts";
import type { Database } from "../store/index.ts";
import { patchEnvironment, requireFlag } from "./flag-edits.ts";
import type { ChangeBy, FlagService } from "./flag-service.ts";

/** What a scheduled change sets in the flag's environment; the fields it leaves out are kept. */
export interface EnvironmentPatch {
  enabled?: boolean;
  offVariant?: string;
  fallthrough?: unknown;
  rules?: unknown[];
  prerequisites?: unknown[];
}

export type ScheduleStatus = "pending" | "applied" | "failed" | "cancelled";

export interface ScheduledChange {
  id: number;
  flagKey: string;
  environment: string;
  at: string;
  change: EnvironmentPatch;
  status: ScheduleStatus;
  reason: string | null;
  createdBy: string;
  createdAt: string;
  doneAt: string | null;
  doneBy: string | null;
  /** Why it failed, or why it was cancelled. */
  outcome: string | null;
}

/** The pending changes due at `now`, in the order they are applied: by time, then by id. */
export function dueChanges<T extends { at: string; id: number; status: string }>(
  pending: readonly T[],
  now: Date,
): T[] {
  const at = now.toISOString();
  return pending
    .filter((s) => s.status === "pending" && s.at <= at)
    .sort((a, b) => (a.at === b.at ? a.id - b.id : a.at < b.at ? -1 : 1));
}

export interface FlagSchedulesDeps {
  db: Kysely<Database>;
  flags: FlagService;
  audit: AuditLog;
  now: () => Date;
  log: Logger;
}

/**
 * Changes to apply at a set time ("turn checkout on in production at 09:00"). Stored, so a
 * restart loses none; each is validated and authorised when scheduled, validated again when
 * applied (it fails, audited, if the flag no longer allows it). The timer checks every
 * second; on start, changes that came due while Gantry was down are applied at once.
 */
export class FlagSchedules {
  readonly #d: FlagSchedulesDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  /** Cancelled in this process: checked inside the flag service's queue, so a cancel always wins. */
  readonly #cancelled = new Set<number>();

  constructor(deps: FlagSchedulesDeps) {
    this.#d = deps;
  }

  async create(
    input: {
      flagKey: string;
      environment: string;
      at: Date;
      change: EnvironmentPatch;
      reason?: string | undefined;
    },
    by: ChangeBy,
  ): Promise<ScheduledChange> {
    const flags = this.#d.flags;
    flags.environment(input.environment);
    requireFlag(flags.state.set, input.flagKey);
    if (Object.keys(input.change).length === 0)
      throw new GantryError(
        "BAD_REQUEST",
        "a scheduled change sets at least one of: enabled, offVariant, fallthrough, rules, prerequisites",
        {
          field: "change",
        },
      );
    const now = this.#d.now();
    if (input.at.getTime() <= now.getTime())
      throw new GantryError(
        "BAD_REQUEST",
        `at ${input.at.toISOString()} is not in the future (now ${now.toISOString()})`,
        {
          field: "at",
        },
      );
    // Valid and allowed against today's flags, or refused now rather than failing later.
    await flags.change(
      by,
      (set) => patchEnvironment(set, input.flagKey, input.environment, { ...input.change }),
      true,
    );
    const row = {
      flag_key: input.flagKey,
      environment: input.environment,
      at: input.at.toISOString(),
      change: JSON.stringify(input.change),
      status: "pending",
      reason: input.reason ?? null,
      created_by: by.actor,
      created_at: now.toISOString(),
      done_at: null,
      done_by: null,
      outcome: null,
    };
    const { id } = await this.#d.db
      .insertInto("flag_schedules")
      .values(row)
      .returning("id")
      .executeTakeFirstOrThrow();
    const created = toScheduled({ ...row, id: Number(id) });
    await this.#d.audit.record({
      actor: by.actor,
      action: "flag-schedule.created",
      subject: `flag/${input.flagKey}`,
      reason: input.reason ?? null,
      data: { schedule: created, environments: [] },
    });
    return created;
  }

  async list(
    query: { status?: ScheduleStatus | undefined; flagKey?: string | undefined } = {},
  ): Promise<ScheduledChange[]> {
    let q = this.#d.db.selectFrom("flag_schedules").selectAll();
    if (query.status) q = q.where("status", "=", query.status);
    if (query.flagKey) q = q.where("flag_key", "=", query.flagKey);
    const rows = await q.orderBy("at").orderBy("id").execute();
    return rows.map((r) => toScheduled({ ...r, id: Number(r.id) }));
  }

  async cancel(id: number, actor: string, reason: string | undefined): Promise<ScheduledChange> {
    const [found] = (await this.list()).filter((s) => s.id === id);
    if (!found)
      throw new GantryError(
        "NOT_FOUND",
        `no scheduled change ${id}; \`gantry flags schedule list\` shows them`,
      );
    if (found.status !== "pending")
      throw new GantryError("CONFLICT", `scheduled change ${id} is ${found.status}, not pending`, {
        field: "id",
      });
    return this.#finish(found, "cancelled", actor, reason ?? "cancelled");
  }

  /** Cancels the pending changes of a flag (in one environment, when given): the kill switch, a deletion. */
  async cancelFor(
    flagKey: string,
    environment: string | undefined,
    actor: string,
    why: string,
  ): Promise<number[]> {
    const pending = (await this.list({ status: "pending", flagKey })).filter(
      (s) => environment === undefined || s.environment === environment,
    );
    for (const s of pending) await this.#finish(s, "cancelled", actor, why);
    return pending.map((s) => s.id);
  }

  /** Applies every change that is due, oldest first; each one is audited, applied or failed. */
  runDue(): Promise<void> {
    this.#running = this.#running
      .then(() => this.#runDue())
      .catch((err) => this.#d.log.error({ err }, "scheduled flag changes failed"));
    return this.#running;
  }

  async #runDue(): Promise<void> {
    for (const s of dueChanges(await this.list({ status: "pending" }), this.#d.now())) {
      let cancelled = false;
      try {
        await this.#d.flags.change(
          {
            actor: s.createdBy,
            role: "admin",
            reason: `scheduled change ${s.id}${s.reason ? `: ${s.reason}` : ""}`,
            source: "schedule",
          },
          (set) => {
            // Cancelled (a kill switch) after this run listed it: leave the flag alone.
            cancelled = this.#cancelled.has(s.id);
            return cancelled
              ? patchEnvironment(set, s.flagKey, s.environment, {})
              : patchEnvironment(set, s.flagKey, s.environment, { ...s.change });
          },
        );
        if (!cancelled) await this.#finish(s, "applied", "gantry", null);
      } catch (error) {
        if (!isGantryError(error)) throw error;
        if (!cancelled) await this.#finish(s, "failed", "gantry", error.message);
      }
    }
  }

  async #finish(
    s: ScheduledChange,
    status: ScheduleStatus,
    actor: string,
    outcome: string | null,
  ): Promise<ScheduledChange> {
    const doneAt = this.#d.now().toISOString();
    await this.#d.db
      .updateTable("flag_schedules")
      .set({ status, done_at: doneAt, done_by: actor, outcome })
      .where("id", "=", s.id)
      .execute();
    const done = { ...s, status, doneAt, doneBy: actor, outcome };
    await this.#d.audit.record({
      actor,
      action: `flag-schedule.${status}`,
      subject: `flag/${s.flagKey}`,
      reason: outcome,
      data: { schedule: done, environments: [] },
    });
    return done;
  }

  /** Applies what came due while Gantry was down, then checks every intervalMs. */
  async start(intervalMs = 1000): Promise<void> {
    await this.runDue();
    this.#timer = setInterval(() => void this.runDue(), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}

function toScheduled(r: {
  id: number;
  flag_key: string;
  environment: string;
  at: string;
  change: string;
  status: string;
  reason: string | null;
  created_by: string;
  created_at: string;
  done_at: string | null;
  done_by: string | null;
  outcome: string | null;
}): ScheduledChange {
  return {
    id: r.id,
    flagKey: r.flag_key,
    environment: r.environment,
    at: r.at,
    change: JSON.parse(r.change),
    status: r.status as ScheduleStatus,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    doneAt: r.done_at,
    doneBy: r.done_by,
    outcome: r.outcome,
  };
}
