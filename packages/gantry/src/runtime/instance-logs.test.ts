import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tailLog } from "./log-reader.ts";
import { RotatingLog } from "./rotating-log.ts";
import { createSandbox, eventually, type Sandbox } from "./test-support.ts";

let sandbox: Sandbox;
beforeEach(() => {
  sandbox = createSandbox();
});
afterEach(async () => {
  await sandbox.cleanup();
});

const COUNT_TO_3000 = `i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; exec sleep 300`;

describe("instance logs", () => {
  it("stay within logMaxBytes per file, and the tail reads across the rotation", async () => {
    const runtime = sandbox.runtime({ logMaxBytes: 4096 });
    const spec = await sandbox.spec({ command: COUNT_TO_3000 });
    await runtime.start(spec);
    await eventually(
      () => runtime.logs(spec.id, 100),
      (tail) => tail.endsWith("line 2999\n"),
    );

    const dir = join(sandbox.dataDir, "instances", spec.id);
    expect(statSync(join(dir, "log")).size).toBeLessThanOrEqual(4096);
    expect(statSync(join(dir, "log.1")).size).toBeLessThanOrEqual(4096);
    const tail = await runtime.logs(spec.id, 6000);
    expect(tail.length).toBeGreaterThan(4096);
    expect(tail.length).toBeLessThanOrEqual(6000);
    const numbers = [...tail.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
    expect(numbers.at(-1)).toBe(2999);
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
  });

  it("follow delivers every line in order across rotations, until aborted", async () => {
    const runtime = sandbox.runtime({ logMaxBytes: 512, followPollMs: 30 });
    const spec = await sandbox.spec({
      command: `i=0; while true; do echo "n $i"; i=$((i+1)); sleep 0.005; done`,
    });
    await runtime.start(spec);
    let text = "";
    const controller = new AbortController();
    const following = runtime.followLogs(spec.id, (chunk) => (text += chunk), controller.signal);
    await eventually(
      () => text,
      (t) => (t.match(/^n \d+$/gm)?.length ?? 0) > 300,
    );
    controller.abort();
    await following;

    const numbers = [...text.matchAll(/^n (\d+)$/gm)].map((m) => Number(m[1]));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    expect(statSync(join(sandbox.dataDir, "instances", spec.id, "log")).size).toBeLessThanOrEqual(512);
  });

  it("of an unknown instance are a NOT_FOUND error", async () => {
    await expect(sandbox.runtime().logs("nobody")).rejects.toMatchObject({ code: "NOT_FOUND", field: "id" });
  });
});

describe("RotatingLog", () => {
  it("keeps only the newest bytes of a chunk larger than the limit", async () => {
    const path = join(sandbox.dir, "big.log");
    const log = new RotatingLog(path, 10);
    log.write("0123456789abcdef");
    log.close();
    expect(await tailLog(path, `${path}.1`, 100)).toBe("6789abcdef");
  });

  it("does not cut a UTF-8 character in half at the start of a tail", async () => {
    const path = join(sandbox.dir, "utf8.log");
    writeFileSync(path, "ééé");
    expect(await tailLog(path, `${path}.1`, 3)).toBe("é");
  });
});
