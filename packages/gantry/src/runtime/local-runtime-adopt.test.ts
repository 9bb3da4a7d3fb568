import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { groupMembers, isAlive } from "./process-table.ts";
import type { InstanceSpec, InstanceStatus } from "./runtime.ts";
import { createSandbox, eventually, getJson, type Sandbox } from "./test-support.ts";

const RUNTIME_MODULE = fileURLToPath(new URL("./local-runtime.ts", import.meta.url));

let sandbox: Sandbox;
beforeEach(() => {
  sandbox = createSandbox();
});
afterEach(async () => {
  await sandbox.cleanup();
});

/**
 * Plays the control plane in a separate process: starts the instance, prints its status,
 * then idles until it is SIGKILLed, the way a crashed `gantry up` would go.
 */
async function startFromDoomedOwner(
  spec: InstanceSpec,
): Promise<{ status: InstanceStatus; ownerPid: number }> {
  const script = join(sandbox.dir, "owner.ts");
  writeFileSync(
    script,
    `import { LocalRuntime } from ${JSON.stringify(RUNTIME_MODULE)};
const runtime = new LocalRuntime({ dataDir: ${JSON.stringify(sandbox.dataDir)} });
const status = await runtime.start(${JSON.stringify(spec)});
console.log(JSON.stringify(status));
setInterval(() => {}, 1000);
`,
  );
  const owner = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    owner.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    owner.once("exit", (code) => reject(new Error(`owner exited early with ${code}`)));
  });
  const exited = new Promise((resolve) => owner.once("exit", resolve));
  owner.kill("SIGKILL");
  await exited;
  return { status: JSON.parse(line) as InstanceStatus, ownerPid: owner.pid! };
}

describe("LocalRuntime after a control-plane crash", () => {
  it("adopts instances whose owner was SIGKILLed: they keep serving and can be stopped", async () => {
    const spec = await sandbox.spec({ id: "survivor" });
    const { status, ownerPid } = await startFromDoomedOwner(spec);
    expect(isAlive({ pid: ownerPid, startTime: null })).toBe(false);

    const runtime = sandbox.runtime();
    const adopted = await runtime.adopt();
    expect(adopted).toMatchObject([
      { id: "survivor", state: "running", pid: status.pid, shimPid: status.shimPid },
    ]);
    const body = await eventually(
      () => getJson(spec.port),
      () => true,
    );
    expect(body.pid).toBe(status.pid);
    expect(await runtime.logs("survivor")).toContain(`listening on ${spec.port}`);

    await runtime.stop("survivor");
    expect(groupMembers(status.pid!)).toEqual([]);
    expect(isAlive({ pid: status.shimPid!, startTime: null })).toBe(false);
    expect(await runtime.list()).toEqual([]);
  });

  it("a second runtime on the same data dir sees the first one's instances and refuses duplicates", async () => {
    const first = sandbox.runtime();
    const spec = await sandbox.spec();
    await first.start(spec);
    const second = sandbox.runtime();
    expect(await second.list()).toMatchObject([{ id: spec.id, state: "running" }]);
    await expect(second.start(spec)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("kills the instance of a shim that was SIGKILLed and reports it stopped", async () => {
    const runtime = sandbox.runtime();
    const spec = await sandbox.spec();
    const { pid, shimPid } = await runtime.start(spec);
    process.kill(shimPid!, "SIGKILL");
    await eventually(
      () => isAlive({ pid: shimPid!, startTime: null }),
      (alive) => !alive,
    );

    expect(await runtime.list()).toMatchObject([{ id: spec.id, state: "stopped", pid: null }]);
    await eventually(
      () => groupMembers(pid!),
      (members) => members.length === 0,
    );
    await runtime.stop(spec.id);
    expect(await runtime.list()).toEqual([]);
  });

  it("does not mistake a recycled pid for its shim", async () => {
    const runtime = sandbox.runtime();
    const spec = await sandbox.spec();
    await runtime.start(spec);
    const statePath = join(sandbox.dataDir, "instances", spec.id, "state.json");
    const record = JSON.parse(readFileSync(statePath, "utf8"));
    // Point the record at a live process that is not the shim (this test process).
    writeFileSync(statePath, JSON.stringify({ ...record, shim: { pid: process.pid, startTime: "1" } }));

    expect(await runtime.list()).toMatchObject([{ id: spec.id, state: "stopped" }]);
    // Restore so cleanup stops the real shim.
    writeFileSync(statePath, JSON.stringify(record));
  });
});
