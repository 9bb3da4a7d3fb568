import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importRelease } from "./import-release.ts";
import { findRelease, listReleases, releaseDir, removeRelease, verifyRelease } from "./release-store.ts";

function setup() {
  const base = mkdtempSync(join(tmpdir(), "release-store-"));
  const dataDir = join(base, "data");
  const app = join(base, "app");
  mkdirSync(app);
  writeFileSync(join(app, "server.js"), "1\n");
  const add = (version: string) => importRelease({ dataDir, service: "api", version, artifactPath: app });
  return { dataDir, app, add };
}

describe("stored releases", () => {
  it("lists a service's releases in version order, and none for an unknown service", async () => {
    const { dataDir, add } = setup();
    for (const version of ["v10", "v2", "v1.0.0+build.5"]) await add(version);
    expect((await listReleases(dataDir, "api")).map((r) => r.version)).toEqual([
      "v1.0.0+build.5",
      "v2",
      "v10",
    ]);
    expect(await listReleases(dataDir, "other")).toEqual([]);
  });

  it("finds a release by version, even when its summary was lost after the rename", async () => {
    const { dataDir, add } = setup();
    const stored = await add("v1");
    expect(await findRelease({ dataDir, service: "api", version: "v1" })).toEqual(stored);
    rmSync(join(dataDir, "releases", "api", ".checksums"), { recursive: true });
    expect(await findRelease({ dataDir, service: "api", version: "v1" })).toEqual(stored);
    expect(await findRelease({ dataDir, service: "api", version: "v9" })).toBeUndefined();
  });

  it("removes a release so that the same version can be imported again with other content", async () => {
    const { dataDir, app, add } = setup();
    await add("v1");
    expect(await removeRelease({ dataDir, service: "api", version: "v1" })).toBe(true);
    expect(await removeRelease({ dataDir, service: "api", version: "v1" })).toBe(false);
    expect(await listReleases(dataDir, "api")).toEqual([]);
    writeFileSync(join(app, "server.js"), "2\n");
    await expect(add("v1")).resolves.toMatchObject({ version: "v1" });
    expect(readdirSync(join(dataDir, "releases", ".staging"))).toEqual([]);
  });

  it("tells when a stored release was changed after its import", async () => {
    const { dataDir, add } = setup();
    const stored = await add("v1");
    expect(await verifyRelease({ dataDir, service: "api", version: "v1" })).toMatchObject({ intact: true });
    writeFileSync(join(stored.dir, "server.js"), "tampered\n");
    const verdict = await verifyRelease({ dataDir, service: "api", version: "v1" });
    expect(verdict).toMatchObject({ intact: false, release: { checksum: stored.checksum } });
    expect(verdict?.actual).not.toBe(stored.checksum);
  });

  it("refuses names that could leave the data dir", () => {
    expect(() => releaseDir({ dataDir: "/d", service: "api", version: "../../etc" })).toThrow(/version/);
    expect(() => releaseDir({ dataDir: "/d", service: ".staging", version: "v1" })).toThrow(/service/);
    expect(releaseDir({ dataDir: "/d", service: "api", version: "1.4.0" })).toBe("/d/releases/api/1.4.0");
  });
});
