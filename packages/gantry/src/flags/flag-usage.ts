import { type Kysely, sql } from "kysely";
import type { Database } from "../store/index.ts";
import type { UsageRow } from "./flag-lifecycle.ts";

/** One reported count: a flag served a variant `count` times, the last at `lastAt`. */
export interface ServedCount {
  flagKey: string;
  variant: string;
  count: number;
  lastAt: string;
}

/** Counts gathered since the last flush, times in epoch ms (turned into ISO text only when written). */
interface PendingRow {
  environment: string;
  flagKey: string;
  variant: string;
  count: number;
  firstMs: number;
  lastMs: number;
}

/**
 * What flags served: counts reported by SDKs and counted by the server's own evaluations.
 * Server-side counts are kept in memory (environment → flag → variant, no allocation once
 * a variant has been counted) and written every few seconds, so evaluating never waits for
 * the database.
 */
export class FlagUsage {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;
  #pending = new Map<string, Map<string, Map<string, PendingRow>>>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: Kysely<Database>, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  /** A server-side evaluation served this variant now (in memory until the next flush). */
  served(environment: string, flagKey: string, variant: string): void {
    this.#add(environment, flagKey, variant, 1, this.#now().getTime());
  }

  /** Stores a batch of counts reported by an SDK. */
  async record(environment: string, counts: readonly ServedCount[]): Promise<void> {
    const now = this.#now().getTime();
    // A clock ahead of ours must not make a flag look evaluated in the future.
    for (const c of counts)
      this.#add(environment, c.flagKey, c.variant, c.count, Math.min(Date.parse(c.lastAt), now));
    await this.flush();
  }

  #add(
    environment: string,
    flagKey: string,
    variant: string,
    count: number,
    atMs: number,
    firstMs = atMs,
  ): void {
    let byFlag = this.#pending.get(environment);
    if (!byFlag) {
      byFlag = new Map();
      this.#pending.set(environment, byFlag);
    }
    let byVariant = byFlag.get(flagKey);
    if (!byVariant) {
      byVariant = new Map();
      byFlag.set(flagKey, byVariant);
    }
    const row = byVariant.get(variant);
    if (!row) {
      byVariant.set(variant, { environment, flagKey, variant, count, firstMs, lastMs: atMs });
      return;
    }
    row.count += count;
    if (atMs > row.lastMs) row.lastMs = atMs;
    if (firstMs < row.firstMs) row.firstMs = firstMs;
  }

  /** Writes the counts gathered since the last flush, adding to the stored ones. */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#write());
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const pending = [...this.#pending.values()].flatMap((byFlag) =>
      [...byFlag.values()].flatMap((v) => [...v.values()]),
    );
    this.#pending = new Map();
    try {
      await this.#store(
        pending.map((r) => ({
          environment: r.environment,
          flagKey: r.flagKey,
          variant: r.variant,
          count: r.count,
          firstAt: new Date(r.firstMs).toISOString(),
          lastAt: new Date(r.lastMs).toISOString(),
        })),
      );
    } catch (error) {
      // Kept for the next flush rather than lost.
      for (const r of pending) this.#add(r.environment, r.flagKey, r.variant, r.count, r.lastMs, r.firstMs);
      throw error;
    }
  }

  /**
   * Adds the rows to the stored counts in a few statements (one per 500 rows): a flush
   * runs on the event loop that serves evaluations, so it must not hold it for long.
   */
  async #store(rows: UsageRow[]): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insertInto("flag_usage")
          .values(
            rows.slice(i, i + 500).map((r) => ({
              flag_key: r.flagKey,
              environment: r.environment,
              variant: r.variant,
              count: r.count,
              first_at: r.firstAt,
              last_at: r.lastAt,
            })),
          )
          .onConflict((c) =>
            c.columns(["flag_key", "environment", "variant"]).doUpdateSet({
              count: sql`flag_usage.count + excluded.count`,
              first_at: sql`CASE WHEN excluded.first_at < flag_usage.first_at THEN excluded.first_at ELSE flag_usage.first_at END`,
              last_at: sql`CASE WHEN excluded.last_at > flag_usage.last_at THEN excluded.last_at ELSE flag_usage.last_at END`,
            }),
          )
          .execute();
      }
    });
  }

  /** Every stored count, after writing what is pending; of one flag when given. */
  async rows(flagKey?: string): Promise<UsageRow[]> {
    await this.flush();
    let q = this.#db.selectFrom("flag_usage").selectAll();
    if (flagKey !== undefined) q = q.where("flag_key", "=", flagKey);
    const rows = await q.orderBy("flag_key").orderBy("environment").orderBy("variant").execute();
    return rows.map((r) => ({
      flagKey: r.flag_key,
      environment: r.environment,
      variant: r.variant,
      count: Number(r.count),
      firstAt: r.first_at,
      lastAt: r.last_at,
    }));
  }

  /** Forgets the counts of a deleted flag. */
  async forget(flagKey: string): Promise<void> {
    await this.#db.deleteFrom("flag_usage").where("flag_key", "=", flagKey).execute();
  }

  start(intervalMs = 5000): void {
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
