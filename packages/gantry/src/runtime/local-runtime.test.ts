import { mkdirSync, rmSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { groupMembers, isAlive } from "./process-table.ts";
import { createSandbox, eventually, getJson, type Sandbox } from "./test-support.ts";

let sandbox: Sandbox;
beforeEach(() => {
  sandbox = createSandbox();
});
afterEach(async () => {
  await sandbox.cleanup();
});

function gone(pid: number): boolean {
  return !isAlive({ pid, startTime: null }) && groupMembers(pid).length === 0;
}

describe("LocalRuntime", () => {
  it("runs an instance that gets PORT and the GANTRY_* env and serves on it", async () => {
    const runtime = sandbox.runtime();
    process.env.SECRET_OF_PARENT = "must-not-leak";
    const spec = await sandbox.spec({ id: "demo-v1-1", env: { EXTRA: "yes" } });
    const status = await runtime.start(spec);
    delete process.env.SECRET_OF_PARENT;

    expect(status).toMatchObject({ id: "demo-v1-1", state: "running", restarts: 0, port: spec.port });
    const body = await eventually(
      () => getJson(spec.port),
      () => true,
    );
    expect(body.pid).toBe(status.pid);
    expect(body.env).toEqual({
      PORT: String(spec.port),
      GANTRY_SERVICE: "demo",
      GANTRY_VERSION: "v1",
      GANTRY_INSTANCE: "demo-v1-1",
      EXTRA: "yes",
    });
    expect(await runtime.list()).toMatchObject([{ id: "demo-v1-1", state: "running", pid: status.pid }]);
  });

  it("restarts a crashing instance with growing backoff and counts the restarts", async () => {
    const runtime = sandbox.runtime({ backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 10_000 } });
    const spec = await sandbox.spec({ command: "echo boom; exit 3" });
    await runtime.start(spec);

    const status = await eventually(
      () => runtime.status(spec.id),
      (s) => (s?.restarts ?? 0) >= 4,
    );
    expect(status?.lastExit).toMatchObject({ code: 3, signal: null });
    const log = await runtime.logs(spec.id);
    expect(log).toContain("boom");
    for (const delay of [100, 200, 400]) expect(log).toContain(`restarting in ${delay} ms`);
    expect(log).not.toContain("restarting in 800 ms");
  });

  it("stops gracefully: SIGTERM reaches the instance and it is not SIGKILLed", async () => {
    const runtime = sandbox.runtime();
    const spec = await sandbox.spec({ stopTimeoutMs: 5_000 });
    const { pid, shimPid } = await runtime.start(spec);
    await eventually(
      () => runtime.logs(spec.id),
      (log) => log.includes("listening"),
    );

    const started = Date.now();
    await runtime.stop(spec.id);

    expect(Date.now() - started).toBeLessThan(5_000);
    const log = await runtime.logs(spec.id);
    expect(log).toContain("graceful shutdown");
    expect(log).toContain("exited with code 0");
    expect(log).not.toContain("SIGKILL");
    expect(gone(pid!)).toBe(true);
    expect(gone(shimPid!)).toBe(true);
    expect(await runtime.list()).toEqual([]);
  });

  it("SIGKILLs an instance that ignores SIGTERM once the stop timeout passed", async () => {
    const runtime = sandbox.runtime();
    const spec = await sandbox.spec({ env: { IGNORE_TERM: "1" }, stopTimeoutMs: 700 });
    const { pid } = await runtime.start(spec);
    await eventually(
      () => runtime.logs(spec.id),
      (log) => log.includes("listening"),
    );

    const started = Date.now();
    await runtime.stop(spec.id);

    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    const log = await runtime.logs(spec.id);
    expect(log).toContain("ignoring SIGTERM");
    expect(log).toContain("sending SIGKILL");
    expect(log).toContain("exited with signal SIGKILL");
    expect(gone(pid!)).toBe(true);
  });

  it("leaves no process behind, including children the instance started itself", async () => {
    const runtime = sandbox.runtime();
    const spec = await sandbox.spec({
      command: `sleep 300 & sleep 301 & exec "${process.execPath}" server.mjs`,
    });
    const { pid, shimPid } = await runtime.start(spec);
    await eventually(
      () => groupMembers(pid!),
      (members) => members.length === 3,
    );

    await runtime.stop(spec.id);

    expect(groupMembers(pid!)).toEqual([]);
    expect(gone(shimPid!)).toBe(true);
  });

  it("stops an instance that is waiting in backoff without starting it again", async () => {
    const runtime = sandbox.runtime({ backoff: { initialMs: 60_000 } });
    const spec = await sandbox.spec({ command: "exit 1" });
    const { shimPid } = await runtime.start(spec);
    await eventually(
      () => runtime.status(spec.id),
      (s) => s?.state === "backoff",
    );

    await runtime.stop(spec.id);
    expect(gone(shimPid!)).toBe(true);
    expect(await runtime.status(spec.id)).toBeNull();
  });

  it("keeps retrying, and can still be stopped, when its working directory disappears", async () => {
    const cwd = `${sandbox.dir}/release-gone`;
    mkdirSync(cwd);
    const runtime = sandbox.runtime({ backoff: { initialMs: 50, maxMs: 100 } });
    const spec = await sandbox.spec({ cwd, command: "sleep 0.1; exit 1" });
    const { shimPid } = await runtime.start(spec);
    rmSync(cwd, { recursive: true });

    await eventually(
      () => runtime.logs(spec.id),
      (log) => log.includes("could not start"),
    );
    expect((await runtime.status(spec.id))?.state).toBe("backoff");
    await runtime.stop(spec.id);
    expect(gone(shimPid!)).toBe(true);
  });

  it("refuses a second start of a running id and rejects bad specs naming the field", async () => {
    const runtime = sandbox.runtime();
    const spec = await sandbox.spec();
    await runtime.start(spec);
    await expect(runtime.start(spec)).rejects.toMatchObject({ code: "CONFLICT", field: "id" });
    await expect(runtime.start({ ...spec, id: "../etc" })).rejects.toMatchObject({ field: "id" });
    await expect(runtime.stop("../../etc")).rejects.toMatchObject({ code: "BAD_REQUEST", field: "id" });
    await expect(runtime.start({ ...spec, id: "x", cwd: "/nope" })).rejects.toMatchObject({ field: "cwd" });
    await expect(runtime.start({ ...spec, id: "x", port: 0 })).rejects.toMatchObject({ field: "port" });
  });

  it("fails start with an explanation when the shim cannot run", async () => {
    const runtime = sandbox.runtime({ nodePath: `${sandbox.dir}/no-such-node` });
    await expect(runtime.start(await sandbox.spec())).rejects.toMatchObject({
      code: "INTERNAL",
      message: expect.stringContaining("ENOENT"),
    });
  });

  it("treats stopping an unknown instance as done, so a resumed rollout can repeat it", async () => {
    await expect(sandbox.runtime().stop("never-started")).resolves.toBeUndefined();
  });

  it("can start an id again after it was stopped, appending to the same log", async () => {
    const runtime = sandbox.runtime();
    const spec = await sandbox.spec();
    await runtime.start(spec);
    await runtime.stop(spec.id);
    const again = await runtime.start(spec);
    expect(again.state).toBe("running");
    await eventually(
      () => getJson(spec.port),
      (body) => body.pid === again.pid,
    );
    expect((await runtime.logs(spec.id)).match(/started pid/g)).toHaveLength(2);
  });

  it("stopAll stops every instance", async () => {
    const runtime = sandbox.runtime();
    const started = [await runtime.start(await sandbox.spec()), await runtime.start(await sandbox.spec())];
    await runtime.stopAll();
    expect(await runtime.list()).toEqual([]);
    for (const status of started) expect(gone(status.pid!)).toBe(true);
  });
});
