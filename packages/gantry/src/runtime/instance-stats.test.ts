import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { instanceStats } from "./instance-stats.ts";
import { groupMembers, signalGroup, waitUntil } from "./process-table.ts";

describe("instanceStats", () => {
  it("sums CPU and memory over the whole process group, and is null once it is gone", async () => {
    // Busy until it has used 0.3 s of CPU (not of wall time: a loaded machine gives less), then idle.
    const busy = `while (process.cpuUsage().user < 300000) {} setInterval(() => {}, 1000)`;
    const child = spawn("/bin/sh", ["-c", `sleep 30 & exec "${process.execPath}" -e "${busy}"`], {
      detached: true,
      stdio: "ignore",
    });
    const pgid = child.pid!;
    try {
      await waitUntil(() => (instanceStats(pgid)?.cpuSeconds ?? 0) >= 0.2, 20_000);
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
