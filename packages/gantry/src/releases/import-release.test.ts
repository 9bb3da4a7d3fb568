import {
  existsSync,
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
  writeFileSync(join(app, "server.js"), "console.log('hi')\n", { mode: 0o755 });
  writeFileSync(join(app, "lib", "util.js"), "export {}\n");
  symlinkSync("lib/util.js", join(app, "util.js"));
  return { base, dataDir, app };
}

/** Nothing but empty bookkeeping folders may exist after a refused import. */
function storedVersions(dataDir: string, service: string): string[] {
  const dir = join(dataDir, "releases", service);
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe("importing a release", () => {
  it("stores a directory with its content checksum", async () => {
    const { dataDir, app } = setup();
    const release = await importRelease({ dataDir, service: "web", version: "v1", artifactPath: app });
    expect(release.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(release.files).toBe(2);
    expect(existsSync(join(release.dir, "lib", "util.js"))).toBe(true);
  });

  it("gives a .tar.gz of the same tree the same checksum as the directory", async () => {
    const { base, dataDir, app } = setup();
    const tgz = join(base, "app.tgz");
    await create({ gzip: true, cwd: app, file: tgz, portable: true }, ["."]);
    const fromDir = await importRelease({ dataDir, service: "web", version: "v1", artifactPath: app });
    const fromTgz = await importRelease({ dataDir, service: "web", version: "v2", artifactPath: tgz });
    expect(fromTgz.checksum).toBe(fromDir.checksum);
  });

  it("accepts the same version with the same content again", async () => {
    const { dataDir, app } = setup();
    const first = await importRelease({ dataDir, service: "web", version: "v1", artifactPath: app });
    const again = await importRelease({ dataDir, service: "web", version: "v1", artifactPath: app });
    expect(again.checksum).toBe(first.checksum);
  });

  it("refuses the same version with other content and keeps the stored one", async () => {
    const { dataDir, app } = setup();
    const first = await importRelease({ dataDir, service: "web", version: "v1", artifactPath: app });
    writeFileSync(join(app, "server.js"), "changed\n");
    await expect(
      importRelease({ dataDir, service: "web", version: "v1", artifactPath: app }),
    ).rejects.toMatchObject({
      code: "RELEASE_CONTENT_MISMATCH",
    });
    expect(readFileSync(join(first.dir, "server.js"), "utf8")).toBe("console.log('hi')\n");
  });

  const malicious: [string, () => Buffer[]][] = [
    ["an absolute path", () => [tarEntry("/tmp/gantry-pwned", "0", "x")]],
    ["a '..' component", () => [tarEntry("ok.txt", "0", "x"), tarEntry("../escape.txt", "0", "x")]],
    ["a symlink to an absolute path", () => [tarEntry("passwd", "2", "", "/etc/passwd")]],
    ["a symlink leaving the release", () => [tarEntry("a/", "5"), tarEntry("a/up", "2", "", "../../x")]],
    ["a hard link to outside", () => [tarEntry("h", "1", "", "../../etc/passwd")]],
    ["a character device", () => [tarEntry("dev", "3")]],
    ["a FIFO", () => [tarEntry("fifo", "6")]],
  ];
  for (const [what, entries] of malicious) {
    it(`refuses an archive with ${what}, writing nothing anywhere`, async () => {
      const { base, dataDir } = setup();
      const file = archive(base, ...entries());
      await expect(
        importRelease({ dataDir, service: "web", version: "v1", artifactPath: file }),
      ).rejects.toMatchObject({
        code: "UNSAFE_ARCHIVE",
      });
      expect(storedVersions(dataDir, "web")).toEqual([]);
      expect(readdirSync(join(dataDir, "releases", ".staging"))).toEqual([]);
      expect(existsSync(join(base, "escape.txt"))).toBe(false);
      expect(existsSync("/tmp/gantry-pwned")).toBe(false);
    });
  }

  it("refuses a directory with a symlink leaving it", async () => {
    const { dataDir, app } = setup();
    symlinkSync("/etc/passwd", join(app, "passwd"));
    await expect(
      importRelease({ dataDir, service: "web", version: "v1", artifactPath: app }),
    ).rejects.toMatchObject({
      code: "UNSAFE_ARCHIVE",
    });
    expect(storedVersions(dataDir, "web")).toEqual([]);
  });

  it("names a corrupt archive and a missing path", async () => {
    const { base, dataDir } = setup();
    const corrupt = join(base, "corrupt.tgz");
    writeFileSync(corrupt, "not a tarball at all");
    await expect(
      importRelease({ dataDir, service: "web", version: "v1", artifactPath: corrupt }),
    ).rejects.toMatchObject({
      code: "BAD_ARTIFACT",
    });
    await expect(
      importRelease({ dataDir, service: "web", version: "v1", artifactPath: join(base, "nope") }),
    ).rejects.toThrow(/does not exist/);
  });
});
