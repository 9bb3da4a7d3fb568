import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { GantryError } from "../errors/index.ts";
import { type Dialect, migrationProvider } from "./migrations.ts";
import { openNodeSqlite } from "./node-sqlite-database.ts";
import type { Database } from "./schema.ts";

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Opens the embedded SQLite store at path and brings its schema up to date. */
export async function openSqliteStore(path: string): Promise<Store> {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openNodeSqlite(path) }) });
  await migrate(db, "sqlite");
  return { db, dialect: "sqlite", close: () => db.destroy() };
}

async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new GantryError("INTERNAL", `store migration ${failed} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
