export type { Dialect } from "./migrations.ts";
export { openSqliteStore, type Store } from "./open-store.ts";
export type * from "./schema.ts";
