import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { findRouter, waitForRouter } from "./index.ts";
import { type Cleanups, freePort, onePolicy, startUpstream } from "./router-harness.ts";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stand-in for the control plane: a process that spawns the router, prints its pid, and waits. */
function spawner(dataDir: string, port: number): Promise<{ pid: number; kill: () => void }> {
  const index = join(import.meta.dirname, "index.ts");
  const code = `import { spawnRouter } from ${JSON.stringify(index)};
    console.log(spawnRouter({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, host: "127.0.0.1",
      adminPort: 0, nodePath: process.execPath }));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanups.push(() => child.kill("SIGKILL"));
  return new Promise((resolve) => {
    child.stdout.once("data", (d) =>
      resolve({ pid: Number(String(d).trim()), kill: () => child.kill("SIGKILL") }),
    );
  });
}

describe("spawning the router", () => {
  it("starts it detached, finds it ready, and it keeps serving after its spawner is SIGKILLed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "router-spawn-"));
    const port = await freePort();
    const up = await startUpstream(cleanups, (_req, res) => res.end("up"));
    const { pid, kill } = await spawner(dataDir, port);
    cleanups.push(() => process.kill(pid, "SIGKILL"));
    const ready = await waitForRouter(dataDir, pid);
    expect(ready?.pid).toBe(pid);
    await ready!.admin.putPolicy(onePolicy(1, up.port));
    await ready!.admin.close();
    kill();
    await new Promise((r) => setTimeout(r, 200));
    const answer = await request(`http://127.0.0.1:${port}/`);
    expect(await answer.body.text()).toBe("up");
    const found = await findRouter(dataDir);
    expect(found?.pid).toBe(pid);
    expect((await found!.admin.getPolicy()).revision).toBe(1);
    await found!.admin.close();
  });

  it("finds nothing where no router runs", async () => {
    expect(await findRouter(mkdtempSync(join(tmpdir(), "router-none-")))).toBeUndefined();
  });
});
