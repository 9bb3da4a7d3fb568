import { type Kysely, sql } from "kysely";
import type { SliStorageSpec } from "../config/index.ts";
import type { Database } from "../store/index.ts";

/** What one version of a service served in one interval (at - span, at]. */
export interface SliSample {
  service: string;
  version: string;
  at: number;
  span: number;
  requests: number;
  errors: number;
  /** Requests per latency bucket: upper bound in ms (Infinity for the last) → count. */
  latency: ReadonlyMap<number, number>;
  /** CPU seconds the version's instances used in the interval; null when unknown. */
  cpuSeconds: number | null;
  /** Resident memory of its instances at the end of the interval, bytes; null when unknown. */
  rssBytes: number | null;
}

export const fineTier = 0;
export const coarseTier = 1;
const rolledKey = "sli.rolledThrough";

export interface MaintenanceReport {
  rolled: number;
  deleted: number;
  rows: number;
}

/**
 * SLI points in the store: fine points as sampled for `fineFor`, summed into coarse points
 * for `retention`, and never more than `maxRows` rows (the oldest go first).
 */
export class SliStore {
  readonly #db: Kysely<Database>;
  readonly #settings: SliStorageSpec;

  constructor(db: Kysely<Database>, settings: SliStorageSpec) {
    this.#db = db;
    this.#settings = settings;
  }

  get settings(): SliStorageSpec {
    return this.#settings;
  }

  /** Stores points, as sampled (fine) unless told; a point already stored stays as it was. */
  async write(samples: readonly SliSample[], tier = fineTier): Promise<void> {
    for (let i = 0; i < samples.length; i += 200)
      await this.#db
        .insertInto("sli_points")
        .values(samples.slice(i, i + 200).map((s) => toRow(s, tier)))
        .onConflict((oc) => oc.doNothing())
        .execute();
  }

  /** Fine points ending at or before this are summed in coarse points. */
  async rolledThrough(): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom("meta")
      .select("value")
      .where("key", "=", rolledKey)
      .executeTakeFirst();
    return row ? Number(row.value) : undefined;
  }

  /**
   * Sums the fine points of every coarse interval that has ended into coarse points, drops
   * points past their tier's age, then the oldest rows beyond the row budget.
   */
  async maintain(now: number): Promise<MaintenanceReport> {
    const { coarse, fineFor, retention, maxRows } = this.#settings;
    const complete = Math.floor(now / coarse) * coarse;
    let rolled = 0;
    await this.#db.transaction().execute(async (tx) => {
      const stored = await tx
        .selectFrom("meta")
        .select("value")
        .where("key", "=", rolledKey)
        .executeTakeFirst();
      let through = stored ? Number(stored.value) : undefined;
      if (through === undefined) {
        const first = await tx
          .selectFrom("sli_points")
          .select((eb) => eb.fn.min("at").as("at"))
          .where("tier", "=", fineTier)
          .executeTakeFirst();
        through = first?.at == null ? complete : Math.floor((Number(first.at) - 1) / coarse) * coarse;
      }
      // Never roll further back than the retention, whatever the meta says.
      through = Math.max(through, Math.floor((now - retention) / coarse) * coarse);
      if (through < complete) {
        const rows = await tx
          .selectFrom("sli_points")
          .selectAll()
          .where("tier", "=", fineTier)
          .where("at", ">", through)
          .where("at", "<=", complete)
          .execute();
        const buckets = new Map<string, SliSample>();
        for (const row of rows) {
          const end = Math.ceil(Number(row.at) / coarse) * coarse;
          const key = `${row.service}\0${row.version}\0${end}`;
          const s = fromRow(row);
          const b = buckets.get(key);
          if (!b) {
            buckets.set(key, { ...s, at: end, span: coarse, latency: new Map(s.latency) });
            continue;
          }
          b.requests += s.requests;
          b.errors += s.errors;
          for (const [le, n] of s.latency)
            (b.latency as Map<number, number>).set(le, (b.latency.get(le) ?? 0) + n);
          if (s.cpuSeconds !== null) b.cpuSeconds = (b.cpuSeconds ?? 0) + s.cpuSeconds;
          if (s.rssBytes !== null) b.rssBytes = Math.max(b.rssBytes ?? 0, s.rssBytes);
        }
        const values = [...buckets.values()].map((b) => toRow(b, coarseTier));
        for (let i = 0; i < values.length; i += 200)
          await tx
            .insertInto("sli_points")
            .values(values.slice(i, i + 200))
            .onConflict((oc) => oc.doNothing())
            .execute();
        rolled = values.length;
        through = complete;
      }
      await tx
        .insertInto("meta")
        .values({ key: rolledKey, value: String(through) })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value: String(through) }))
        .execute();
    });
    const through = (await this.rolledThrough())!;
    let deleted = 0;
    const fineCut = Math.min(through, now - fineFor);
    deleted += await this.#delete(
      this.#db.deleteFrom("sli_points").where("tier", "=", fineTier).where("at", "<=", fineCut),
    );
    deleted += await this.#delete(
      this.#db
        .deleteFrom("sli_points")
        .where("tier", "=", coarseTier)
        .where("at", "<=", now - retention),
    );
    let rows = await this.count();
    if (rows > maxRows) {
      // Over budget: the oldest coarse rows go first, then the oldest fine ones.
      for (const tier of [coarseTier, fineTier]) {
        const excess = rows - maxRows;
        if (excess <= 0) break;
        const n = await this.#delete(
          this.#db
            .deleteFrom("sli_points")
            .where(
              sql`rowid`,
              "in",
              sql`(select rowid from sli_points where tier = ${tier} order by at limit ${excess})`,
            ),
        );
        deleted += n;
        rows -= n;
      }
    }
    return { rolled, deleted, rows };
  }

  async count(): Promise<number> {
    const row = await this.#db
      .selectFrom("sli_points")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Points of a service (and version), oldest first, of a tier, ending in (from, to]. */
  async points(query: {
    service: string;
    version?: string | undefined;
    tier: number;
    from: number;
    to?: number;
  }): Promise<SliSample[]> {
    let q = this.#db
      .selectFrom("sli_points")
      .selectAll()
      .where("tier", "=", query.tier)
      .where("service", "=", query.service)
      .where("at", ">", query.from);
    if (query.to !== undefined) q = q.where("at", "<=", query.to);
    if (query.version !== undefined) q = q.where("version", "=", query.version);
    const rows = await q.orderBy("at").execute();
    return rows.map(fromRow);
  }

  async #delete(query: { executeTakeFirst(): Promise<{ numDeletedRows: bigint }> }): Promise<number> {
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }
}

function toRow(s: SliSample, tier: number) {
  const latency: Record<string, number> = {};
  for (const [le, n] of s.latency) if (n > 0) latency[Number.isFinite(le) ? String(le) : "+Inf"] = n;
  return {
    service: s.service,
    version: s.version,
    tier,
    span: Math.round(s.span),
    at: Math.round(s.at),
    requests: s.requests,
    errors: s.errors,
    latency: JSON.stringify(latency),
    cpu_seconds: s.cpuSeconds,
    rss_bytes: s.rssBytes === null ? null : Math.round(s.rssBytes),
  };
}

function fromRow(row: Database["sli_points"]): SliSample {
  const latency = new Map<number, number>();
  for (const [le, n] of Object.entries(JSON.parse(row.latency) as Record<string, number>))
    latency.set(le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), n);
  return {
    service: row.service,
    version: row.version,
    at: Number(row.at),
    span: Number(row.span),
    requests: Number(row.requests),
    errors: Number(row.errors),
    latency,
    cpuSeconds: row.cpu_seconds === null ? null : Number(row.cpu_seconds),
    rssBytes: row.rss_bytes === null ? null : Number(row.rss_bytes),
  };
}
