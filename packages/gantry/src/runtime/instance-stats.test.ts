import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { instanceStats } from "./instance-stats.ts";
import { groupMembers, signalGroup, waitUntil } from "./process-table.ts";

describe("instanceStats", () => {
  it("sums CPU and memory over the whole process group, and is null once it is gone", async () => {
    const busy = `const end = Date.now() + 300; while (Date.now() < end) {} setInterval(() => {}, 1000)`;
    const child = spawn("/bin/sh", ["-c", `sleep 30 & exec "${process.execPath}" -e "${busy}"`], {
      detached: true,
      stdio: "ignore",
    });
    const pgid = child.pid!;
    try {
      await waitUntil(() => (instanceStats(pgid)?.cpuSeconds ?? 0) >= 0.2, 5_000);
      const stats = instanceStats(pgid);
      expect(stats?.processes).toBe(2);
      expect(stats?.cpuSeconds).toBeGreaterThanOrEqual(0.2);
      expect(stats?.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    } finally {
      signalGroup(pgid, "SIGKILL");
    }
    await waitUntil(() => groupMembers(pgid).length === 0, 5_000);
    expect(instanceStats(pgid)).toBeNull();
  });
});
