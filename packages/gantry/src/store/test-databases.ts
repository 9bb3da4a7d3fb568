import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kysely, Migrator, PostgresDialect } from "kysely";
import pg from "pg";
import { migrationProvider } from "./migrations.ts";
import { openSqliteStore, type Store } from "./open-store.ts";
import type { Database } from "./schema.ts";

/**
 * For tests: each store Gantry's schema runs on, freshly migrated. SQLite in a temporary
 * file; PostgreSQL (GANTRY_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test) in a
 * schema of its own, dropped on close, so tests can run side by side.
 */
export const testDatabases: { name: "sqlite" | "postgres"; open: () => Promise<Store> }[] = [
  {
    name: "sqlite",
    open: () => openSqliteStore(join(mkdtempSync(join(tmpdir(), "gantry-store-")), "gantry.db")),
  },
  { name: "postgres", open: openPostgresTestStore },
];

let schemas = 0;

async function openPostgresTestStore(): Promise<Store> {
  const url = process.env.GANTRY_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";
  const schema = `gantry_test_${process.pid}_${++schemas}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 4 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const { error } = await new Migrator({ db, provider: migrationProvider("postgres") }).migrateToLatest();
  if (error) throw error;
  return {
    db,
    dialect: "postgres",
    async close() {
      await db.destroy();
      const drop = new pg.Client({ connectionString: url });
      await drop.connect();
      await drop.query(`drop schema ${schema} cascade`);
      await drop.end();
    },
  };
}
