import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { create } from "tar";
import { describe, expect, it } from "vitest";
import { importRelease } from "./import-release.ts";

/** One raw ustar entry, so tests can build archives that no well-behaved tar would write. */
function tarEntry(name: string, type: string, body = "", linkname = ""): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${Buffer.byteLength(body).toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write(type, 156);
  header.write(linkname, 157, 100);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([header, data]);
}

function archive(dir: string, ...entries: Buffer[]): string {
  const file = join(dir, `a-${Math.random().toString(36).slice(2)}.tgz`);
  writeFileSync(file, gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)])));
  return file;
}

function setup() {
  const base = mkdtempSync(join(tmpdir(), "releases-"));
  const dataDir = join(base, "data");
  const app = join(base, "app");
  mkdirSync(join(app, "lib"), { recursive: true });
  mkdirSync(join(app, "node_modules", "dep"), { recursive: true });
  writeFileSync(join(app, "server.js"), "console.log('hi')\n", { mode: 0o755 });
  writeFileSync(join(app, "lib", "util.js"), "export {}\n");
  writeFileSync(join(app, "node_modules", "dep", "index.js"), "module.exports = 1\n");
  symlinkSync("lib/util.js", join(app, "util.js"));
  mkdirSync(join(app, ".git"));
  writeFileSync(join(app, ".git", "HEAD"), "ref: refs/heads/main\n");
  return { base, dataDir, app };
}

/** Every path under `root`, links not followed. */
function snapshot(root: string): string[] {
  const paths: string[] = [];
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(root, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      paths.push(path);
      if (lstatSync(join(root, path)).isDirectory()) walk(path);
    }
  };
  walk("");
  return paths.sort();
}

const web = (dataDir: string, version: string, artifactPath: string) =>
  importRelease({ dataDir, service: "web", version, artifactPath });

describe("importing a release", () => {
  it("stores a directory as it is, node_modules included, without its top-level .git", async () => {
    const { dataDir, app } = setup();
    const release = await web(dataDir, "v1", app);
    expect(release).toMatchObject({ service: "web", version: "v1", files: 3, bytes: 47 });
    expect(release.dir).toBe(join(dataDir, "releases", "web", "v1"));
    expect(release.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(snapshot(release.dir)).toEqual([
      "lib",
      "lib/util.js",
      "node_modules",
      "node_modules/dep",
      "node_modules/dep/index.js",
      "server.js",
      "util.js",
    ]);
    expect(lstatSync(join(release.dir, "util.js")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(release.dir, "server.js")).mode & 0o777).toBe(0o755);
  });

  it("gives a .tar.gz of the same tree the same checksum as the directory, however it was packed", async () => {
    const { base, dataDir, app } = setup();
    const dotted = join(base, "dotted.tgz");
    await create({ gzip: true, cwd: app, file: dotted, portable: true }, ["."]);
    const plain = join(base, "plain.tar.gz");
    await create({ gzip: true, cwd: app, file: plain }, readdirSync(app));
    const fromDir = await web(dataDir, "v1", app);
    expect((await web(dataDir, "v2", dotted)).checksum).toBe(fromDir.checksum);
    expect((await web(dataDir, "v3", plain)).checksum).toBe(fromDir.checksum);
    expect(existsSync(join(dataDir, "releases", "web", "v2", ".git"))).toBe(false);
  });

  it.runIf(spawnSync("tar", ["--version"]).status === 0)(
    "gives an archive made by GNU tar the same checksum too",
    async () => {
      const { base, dataDir, app } = setup();
      const gnu = join(base, "gnu.tgz");
      execFileSync("tar", ["-czf", gnu, "-C", app, "."]);
      expect((await web(dataDir, "v1", gnu)).checksum).toBe((await web(dataDir, "v2", app)).checksum);
    },
  );

  it("counts the executable bit as content", async () => {
    const { dataDir, app } = setup();
    const before = await web(dataDir, "v1", app);
    chmodSync(join(app, "server.js"), 0o644);
    expect((await web(dataDir, "v2", app)).checksum).not.toBe(before.checksum);
  });

  it("accepts the same version with the same content again and leaves it untouched", async () => {
    const { base, dataDir, app } = setup();
    const first = await web(dataDir, "v1", app);
    const tgz = join(base, "app.tgz");
    await create({ gzip: true, cwd: app, file: tgz }, ["."]);
    expect(await web(dataDir, "v1", app)).toEqual(first);
    expect(await web(dataDir, "v1", tgz)).toEqual(first);
    expect(readdirSync(join(dataDir, "releases", ".staging"))).toEqual([]);
  });

  it("refuses the same version with other content, naming both checksums, and keeps the stored one", async () => {
    const { dataDir, app } = setup();
    const first = await web(dataDir, "v1", app);
    const before = snapshot(dataDir);
    writeFileSync(join(app, "server.js"), "changed\n");
    const refusal = web(dataDir, "v1", app);
    await expect(refusal).rejects.toMatchObject({ code: "RELEASE_CONTENT_MISMATCH", field: "version" });
    const message = await refusal.catch((error: Error) => error.message);
    expect(message).toContain(first.checksum);
    expect(message).toMatch(/sha256:[0-9a-f]{64}.*sha256:[0-9a-f]{64}.*new version/);
    expect(readFileSync(join(first.dir, "server.js"), "utf8")).toBe("console.log('hi')\n");
    expect(snapshot(dataDir)).toEqual(before);
  });

  it("lets one of two concurrent imports of a version win and the other compare with it", async () => {
    const { base, dataDir, app } = setup();
    const other = join(base, "other");
    mkdirSync(other);
    writeFileSync(join(other, "server.js"), "something else\n");
    const same = await Promise.all(Array.from({ length: 6 }, () => web(dataDir, "v1", app)));
    expect(new Set(same.map((r) => r.checksum)).size).toBe(1);
    const raced = await Promise.allSettled([web(dataDir, "v2", app), web(dataDir, "v2", other)]);
    const won = raced.filter((r) => r.status === "fulfilled");
    const lost = raced.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost[0]?.reason).toMatchObject({ code: "RELEASE_CONTENT_MISMATCH" });
    expect(
      (await web(dataDir, "v2", won[0]!.value.checksum === same[0]!.checksum ? app : other)).checksum,
    ).toBe(won[0]!.value.checksum);
    expect(readdirSync(join(dataDir, "releases", ".staging"))).toEqual([]);
  });

  const pwned = join(tmpdir(), `gantry-pwned-${process.pid}`);
  const malicious: [string, () => Buffer[], RegExp][] = [
    ["an absolute path", () => [tarEntry(pwned, "0", "x")], /absolute path/],
    [
      "a '..' component",
      () => [
        tarEntry("ok.txt", "0", "x"),
        tarEntry("../escape.txt", "0", "x"),
        tarEntry("../../../../../e", "0"),
      ],
      /"\.\.\/escape\.txt" has a '\.\.' component/,
    ],
    ["a symlink to /etc/passwd", () => [tarEntry("passwd", "2", "", "/etc/passwd")], /passwd.*\/etc\/passwd/],
    [
      "a symlink a -> ../../x",
      () => [tarEntry("a/", "5"), tarEntry("a/up", "2", "", "../../x")],
      /"a\/up" is a symbolic link to \.\.\/\.\.\/x, outside/,
    ],
    [
      "a chain of symlinks leading out",
      () => [tarEntry("a/", "5"), tarEntry("a/b", "2", "", ".."), tarEntry("x", "2", "", "a/b/../..")],
      /"x" is a symbolic link to a\/b\/\.\.\/\.\., which leads outside/,
    ],
    [
      "a file written through a symlink",
      () => [tarEntry("d/", "5"), tarEntry("l", "2", "", "d"), tarEntry("l/f", "0", "x")],
      /"l\/f" lies under the symbolic link l/,
    ],
    ["a hard link to outside", () => [tarEntry("h", "1", "", "../../etc/passwd")], /"h" is a hard link/],
    ["a hard link to an absolute path", () => [tarEntry("h", "1", "", "/etc/passwd")], /hard link.*absolute/],
    ["a character device", () => [tarEntry("dev", "3")], /"dev" is a device file/],
    ["a block device", () => [tarEntry("blk", "4")], /"blk" is a device file/],
    ["a FIFO", () => [tarEntry("ok.txt", "0", "x"), tarEntry("fifo", "6")], /"fifo" is a FIFO/],
  ];
  for (const [what, entries, reason] of malicious) {
    it(`refuses an archive with ${what} before writing anything`, async () => {
      const { base, dataDir } = setup();
      const file = archive(base, ...entries());
      const before = snapshot(base);
      const refusal = web(dataDir, "v1", file);
      await expect(refusal).rejects.toMatchObject({ code: "UNSAFE_ARCHIVE", field: "artifact" });
      expect(await refusal.catch((error: Error) => error.message)).toMatch(reason);
      expect(snapshot(base)).toEqual([...before, "data", "data/releases", "data/releases/.staging"].sort());
      expect(existsSync(pwned)).toBe(false);
      expect(existsSync(join(tmpdir(), "escape.txt"))).toBe(false);
    });
  }

  it("accepts a hard link to a file of the archive, storing it as a file", async () => {
    const { base, dataDir } = setup();
    const file = archive(base, tarEntry("a.txt", "0", "hello"), tarEntry("b.txt", "1", "", "a.txt"));
    const release = await web(dataDir, "v1", file);
    expect(release.files).toBe(2);
    expect(readFileSync(join(release.dir, "b.txt"), "utf8")).toBe("hello");
  });

  it("refuses a directory with a symlink leaving it, or a chain of them", async () => {
    const { dataDir, app } = setup();
    symlinkSync("/etc/passwd", join(app, "passwd"));
    await expect(web(dataDir, "v1", app)).rejects.toThrow(/passwd is a symbolic link to the absolute path/);
    const chained = setup();
    symlinkSync("..", join(chained.app, "lib", "up"));
    symlinkSync("lib/up/..", join(chained.app, "out"));
    await expect(web(chained.dataDir, "v1", chained.app)).rejects.toMatchObject({ code: "UNSAFE_ARCHIVE" });
    expect(readdirSync(join(dataDir, "releases"))).toEqual([".staging"]);
    expect(readdirSync(join(dataDir, "releases", ".staging"))).toEqual([]);
  });

  it("refuses a directory holding a FIFO", async () => {
    const { dataDir, app } = setup();
    execFileSync("mkfifo", [join(app, "lib", "pipe")]);
    await expect(web(dataDir, "v1", app)).rejects.toThrow(/lib\/pipe is of type special file/);
    expect(readdirSync(join(dataDir, "releases"))).toEqual([".staging"]);
  });

  it("refuses artifacts over the entry or size limit", async () => {
    const { dataDir, app } = setup();
    const tooMany = importRelease({
      dataDir,
      service: "web",
      version: "v1",
      artifactPath: app,
      limits: { maxEntries: 3 },
    });
    await expect(tooMany).rejects.toThrow(/more than 3 entries/);
    const tooBig = importRelease({
      dataDir,
      service: "web",
      version: "v1",
      artifactPath: app,
      limits: { maxBytes: 20 },
    });
    await expect(tooBig).rejects.toMatchObject({
      code: "BAD_ARTIFACT",
      message: expect.stringContaining("20 bytes"),
    });
    expect(readdirSync(join(dataDir, "releases"))).toEqual([".staging"]);
  });

  it("names a corrupt or truncated archive, a missing path and something that is no archive", async () => {
    const { base, dataDir, app } = setup();
    const corrupt = join(base, "corrupt.tgz");
    writeFileSync(corrupt, "not a tarball at all");
    await expect(web(dataDir, "v1", corrupt)).rejects.toMatchObject({
      code: "BAD_ARTIFACT",
      message: expect.stringContaining(`${corrupt} is not a readable .tar.gz archive`),
    });
    const whole = join(base, "whole.tgz");
    await create({ gzip: true, cwd: app, file: whole }, ["."]);
    const truncated = join(base, "truncated.tgz");
    writeFileSync(truncated, readFileSync(whole).subarray(0, 60));
    await expect(web(dataDir, "v1", truncated)).rejects.toMatchObject({ code: "BAD_ARTIFACT" });
    const missing = join(base, "nope");
    await expect(web(dataDir, "v1", missing)).rejects.toMatchObject({
      code: "BAD_ARTIFACT",
      message: expect.stringContaining(`${missing} does not exist`),
    });
    await expect(web(dataDir, "v1", join(app, "server.js"))).rejects.toThrow(/neither a directory nor/);
    expect(readdirSync(join(dataDir, "releases"))).toEqual([".staging"]);
    expect(readdirSync(join(dataDir, "releases", ".staging"))).toEqual([]);
  });

  it("refuses a directory that holds the data dir", async () => {
    const { dataDir, app } = setup();
    const inside = join(app, ".gantry");
    await expect(web(inside, "v1", app)).rejects.toThrow(/contains Gantry's data dir/);
    expect(existsSync(inside)).toBe(false);
    mkdirSync(inside);
    await expect(web(inside, "v1", app)).rejects.toThrow(/contains Gantry's data dir/);
    await expect(web(dataDir, "v1", app)).resolves.toMatchObject({ version: "v1" });
  });

  it("refuses an empty artifact", async () => {
    const { base, dataDir } = setup();
    mkdirSync(join(base, "empty"));
    await expect(web(dataDir, "v1", join(base, "empty"))).rejects.toThrow(/is empty/);
  });

  it("refuses a service or version name that could point outside the release folder", async () => {
    const { base, dataDir, app } = setup();
    await expect(web(dataDir, "../../x", app)).rejects.toMatchObject({
      code: "BAD_REQUEST",
      field: "version",
    });
    await expect(
      importRelease({ dataDir, service: "../web", version: "v1", artifactPath: app }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", field: "service" });
    expect(existsSync(dataDir)).toBe(false);
    expect(readdirSync(base).sort()).toEqual(["app"]);
  });
});
