import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoApp, gantry, gantryBin, type RunningGantry, up, webConfig } from "./harness.ts";

let g: RunningGantry;
beforeAll(async () => {
  g = await up({ config: webConfig("{ type: rolling }") });
});
afterAll(async () => {
  await g.interrupt();
});

describe("bad input gets a clear error and changes nothing", () => {
  it("an unknown service is named with the known ones", async () => {
    const result = await gantry(g.dataDir, ["deploy", "nope", "--artifact", demoApp, "--version", "v1"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('unknown service "nope"; known services: web');
  });

  it("an archive with a path leaving the release is refused and nothing is stored", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-archive-"));
    mkdirSync(join(dir, "app"));
    writeFileSync(join(dir, "app", "server.js"), "");
    symlinkSync("/etc/passwd", join(dir, "app", "passwd"));
    spawnSync("tar", ["-czf", join(dir, "bad.tgz"), "-C", join(dir, "app"), "."]);
    const result = await gantry(g.dataDir, [
      "deploy",
      "web",
      "--artifact",
      join(dir, "bad.tgz"),
      "--version",
      "v9",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("UNSAFE_ARCHIVE");
    const releases = JSON.parse((await gantry(g.dataDir, ["history", "web", "--json"])).stdout);
    expect(releases.rollouts).toEqual([]);
  });

  it("the same version with other content is refused", async () => {
    expect(
      (await gantry(g.dataDir, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"])).code,
    ).toBe(0);
    const other = mkdtempSync(join(tmpdir(), "other-"));
    writeFileSync(join(other, "server.ts"), "// another build\n");
    const result = await gantry(g.dataDir, ["deploy", "web", "--artifact", other, "--version", "v1"]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("RELEASE_CONTENT_MISMATCH");
  });

  it("a bad gantry.yaml names each field and starts nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-yaml-"));
    writeFileSync(
      join(dir, "gantry.yaml"),
      "services:\n  web:\n    command: x\n    instances: two\n    strategy: { type: teleport }\n",
    );
    const result = spawnSync(
      gantryBin,
      ["up", "--data-dir", join(dir, "data"), "--config", join(dir, "gantry.yaml"), "--api-port", "0"],
      {
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("services.web.instances");
    expect(result.stderr).toContain("services.web.strategy");
  });

  it("a strategy named on the command line that needs settings says where to give them", async () => {
    const result = await gantry(g.dataDir, [
      "deploy",
      "web",
      "--artifact",
      demoApp,
      "--version",
      "v7",
      "--strategy",
      "phased",
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'strategy "phased" needs settings it has no default for (phases); declare it for the service in gantry.yaml',
    );
  });

  it("a viewer token may read but not deploy", async () => {
    const token = (await gantry(g.dataDir, ["tokens", "create", "--role", "viewer"])).stdout.trim();
    const asViewer = { GANTRY_TOKEN: token };
    expect((await gantry(g.dataDir, ["status"], asViewer)).code).toBe(0);
    const denied = await gantry(g.dataDir, ["rollback", "web"], asViewer);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain("needs deployer");
    const anonymous = await fetch(`${g.apiUrl}/api/v1/status`);
    expect(anonymous.status).toBe(401);
  });
});
