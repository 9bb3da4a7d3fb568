import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../store/index.ts";
import { FlagUsage } from "./flag-usage.ts";

describe("what flags served", () => {
  it("adds counts across flushes in one statement per batch, keeping the earliest first and the latest last", async () => {
    const store = await openSqliteStore(join(mkdtempSync(join(tmpdir(), "gantry-usage-")), "gantry.db"));
    try {
      let now = new Date("2026-12-01T10:00:00Z");
      const usage = new FlagUsage(store.db, () => now);
      for (let i = 0; i < 300; i++) for (const v of ["on", "off"]) usage.served("production", `flag-${i}`, v);
      usage.served("production", "flag-0", "on");
      await usage.flush();
      now = new Date("2026-12-01T11:00:00Z");
      usage.served("production", "flag-0", "on");
      await usage.record("production", [
        { flagKey: "flag-0", variant: "on", count: 5, lastAt: "2026-12-01T09:00:00.000Z" },
      ]);
      const rows = await usage.rows("flag-0");
      expect(rows).toEqual([
        {
          flagKey: "flag-0",
          environment: "production",
          variant: "off",
          count: 1,
          firstAt: "2026-12-01T10:00:00.000Z",
          lastAt: "2026-12-01T10:00:00.000Z",
        },
        {
          flagKey: "flag-0",
          environment: "production",
          variant: "on",
          count: 8,
          firstAt: "2026-12-01T09:00:00.000Z",
          lastAt: "2026-12-01T11:00:00.000Z",
        },
      ]);
      expect((await usage.rows()).length).toBe(600);
    } finally {
      await store.close();
    }
  });
});
