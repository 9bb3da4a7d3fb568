import type { Kysely } from "kysely";
import { GantryError } from "../errors/index.ts";
import type { Database } from "../store/index.ts";
import {
  addRun,
  type ExperimentCounts,
  emptyCounts,
  outcomeOf,
  type Timing,
  timing,
} from "./experiment-stats.ts";
import type { WireResult } from "./result-schema.ts";

/** Runs kept per experiment for timing percentiles, and mismatches kept with their values. */
export const retention = { runs: 5000, mismatches: 50 };

export interface ExperimentSummary {
  name: string;
  counts: ExperimentCounts;
  mismatchRate: number;
  firstAt: string;
  lastAt: string;
}

export interface ExperimentDetail extends ExperimentSummary {
  /** Wall and CPU time percentiles per behaviour over the retained runs. */
  timings: Record<string, { duration: Timing; cpu: Timing }>;
  /** The newest mismatches with their cleaned values and context. */
  mismatches: WireResult[];
}

/** Experiment results from applications: all-time counters, recent runs, recent mismatches. */
export class ExperimentStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Records a batch in one transaction, so a batch is stored whole or not at all. A result
   * whose id was recorded before (a publisher retrying after a lost response) is skipped;
   * returns how many were new.
   */
  async record(results: WireResult[]): Promise<{ recorded: number; duplicates: number }> {
    return await this.#db.transaction().execute(async (tx) => {
      const fresh = await withoutKnownIds(tx, results);
      const byName = new Map<string, WireResult[]>();
      for (const r of fresh) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
      for (const [name, runs] of byName) {
        const row = await tx
          .selectFrom("experiments")
          .selectAll()
          .where("name", "=", name)
          .executeTakeFirst();
        const counts = runs.reduce(
          addRun,
          row ? (JSON.parse(row.counts) as ExperimentCounts) : emptyCounts(),
        );
        const ats = runs.map((r) => r.at).sort();
        const firstAt = row && row.first_at < ats[0]! ? row.first_at : ats[0]!;
        const lastAt = row && row.last_at > ats.at(-1)! ? row.last_at : ats.at(-1)!;
        await tx
          .insertInto("experiments")
          .values({ name, counts: JSON.stringify(counts), first_at: firstAt, last_at: lastAt })
          .onConflict((c) =>
            c
              .column("name")
              .doUpdateSet({ counts: JSON.stringify(counts), first_at: firstAt, last_at: lastAt }),
          )
          .execute();
        await tx
          .insertInto("experiment_runs")
          .values(
            runs.map((r) => ({
              name,
              at: r.at,
              outcome: outcomeOf(r),
              data: JSON.stringify(runData(r)),
              result_id: r.id ?? null,
            })),
          )
          .execute();
        await prune(tx, name);
      }
      return { recorded: fresh.length, duplicates: results.length - fresh.length };
    });
  }

  async list(): Promise<ExperimentSummary[]> {
    const rows = await this.#db.selectFrom("experiments").selectAll().orderBy("name").execute();
    return rows.map(toSummary);
  }

  /** Outcomes of an experiment's latest `limit` runs (of those kept). */
  async recentOutcomes(name: string, limit: number): Promise<{ runs: number; mismatched: number }> {
    const rows = await this.#db
      .selectFrom("experiment_runs")
      .select("outcome")
      .where("name", "=", name)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return { runs: rows.length, mismatched: rows.filter((r) => r.outcome === "mismatched").length };
  }

  /** An experiment's all-time summary, or undefined when it never reported. */
  async find(name: string): Promise<ExperimentSummary | undefined> {
    const row = await this.#db
      .selectFrom("experiments")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toSummary(row) : undefined;
  }

  async get(name: string): Promise<ExperimentDetail> {
    const row = await this.#db
      .selectFrom("experiments")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    if (!row)
      throw new GantryError(
        "NOT_FOUND",
        `no experiment "${name}" has reported results; \`gantry experiments list\` shows those that have`,
        { field: "name" },
      );
    const runs = await this.#db
      .selectFrom("experiment_runs")
      .select(["outcome", "data"])
      .where("name", "=", name)
      .orderBy("id", "desc")
      .limit(retention.runs)
      .execute();
    const parsed = runs.map((r) => ({ outcome: r.outcome, data: JSON.parse(r.data) as RunData }));
    const durations = new Map<string, { duration: number[]; cpu: number[] }>();
    for (const { data } of parsed) {
      for (const [behaviour, t] of Object.entries(data.timings)) {
        const entry = durations.get(behaviour) ?? { duration: [], cpu: [] };
        entry.duration.push(t.durationMs);
        entry.cpu.push(t.cpuMs);
        durations.set(behaviour, entry);
      }
    }
    return {
      ...toSummary(row),
      timings: Object.fromEntries(
        [...durations].map(([b, v]) => [b, { duration: timing(v.duration), cpu: timing(v.cpu) }]),
      ),
      mismatches: parsed
        .filter((p) => p.outcome === "mismatched" && p.data.result)
        .slice(0, retention.mismatches)
        .map((p) => p.data.result!),
    };
  }
}

interface RunData {
  timings: Record<string, { durationMs: number; cpuMs: number }>;
  /** Kept only for mismatches: the values are what someone will want to look at. */
  result?: WireResult;
}

function runData(result: WireResult): RunData {
  const timings = Object.fromEntries(
    [result.control, ...result.candidates].map((o) => [o.name, { durationMs: o.durationMs, cpuMs: o.cpuMs }]),
  );
  return outcomeOf(result) === "mismatched" ? { timings, result } : { timings };
}

/** The results not recorded before, and each id once (a batch may repeat a retried result). */
async function withoutKnownIds(tx: Kysely<Database>, results: WireResult[]): Promise<WireResult[]> {
  const ids = [...new Set(results.flatMap((r) => (r.id === undefined ? [] : [r.id])))];
  const known = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await tx
      .selectFrom("experiment_runs")
      .select("result_id")
      .where("result_id", "in", ids.slice(i, i + 500))
      .execute();
    for (const row of rows) if (row.result_id !== null) known.add(row.result_id);
  }
  return results.filter((r) => {
    if (r.id === undefined) return true;
    if (known.has(r.id)) return false;
    known.add(r.id);
    return true;
  });
}

async function prune(tx: Kysely<Database>, name: string): Promise<void> {
  const oldestKept = await tx
    .selectFrom("experiment_runs")
    .select("id")
    .where("name", "=", name)
    .orderBy("id", "desc")
    .offset(retention.runs - 1)
    .limit(1)
    .executeTakeFirst();
  if (oldestKept)
    await tx.deleteFrom("experiment_runs").where("name", "=", name).where("id", "<", oldestKept.id).execute();
}

function toSummary(row: {
  name: string;
  counts: string;
  first_at: string;
  last_at: string;
}): ExperimentSummary {
  const counts = JSON.parse(row.counts) as ExperimentCounts;
  const judged = counts.matched + counts.mismatched;
  return {
    name: row.name,
    counts,
    mismatchRate: judged === 0 ? 0 : counts.mismatched / judged,
    firstAt: row.first_at,
    lastAt: row.last_at,
  };
}
