import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

export interface TreeSummary {
  checksum: string;
  files: number;
  bytes: number;
}

/**
 * The checksum of a release is over its content, not its packaging, so the same tree as a
 * directory or as a .tar.gz has the same checksum. It is the sha256 of one line per entry,
 * sorted by path (byte order of the UTF-8 path), each line being
 *
 *   d <path>\n                         a directory
 *   f <path> <x|-> <sha256 of bytes>\n a file; x when any executable bit is set
 *   l <path> <link target>\n           a symbolic link
 *
 * with paths relative to the release root, '/'-separated, without a leading "./".
 */
export async function treeChecksum(root: string): Promise<TreeSummary> {
  const lines: [string, string][] = [];
  let files = 0;
  let bytes = 0;
  const walk = async (relative: string): Promise<void> => {
    for (const name of await readdir(join(root, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      const info = await lstat(join(root, path));
      if (info.isDirectory()) {
        lines.push([path, `d ${path}`]);
        await walk(path);
      } else if (info.isSymbolicLink()) {
        lines.push([path, `l ${path} ${await readlink(join(root, path))}`]);
      } else {
        files += 1;
        bytes += info.size;
        const exec = info.mode & 0o111 ? "x" : "-";
        lines.push([path, `f ${path} ${exec} ${await fileSha256(join(root, path))}`]);
      }
    }
  };
  await walk("");
  lines.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const hash = createHash("sha256");
  for (const [, line] of lines) hash.update(`${line}\n`);
  return { checksum: `sha256:${hash.digest("hex")}`, files, bytes };
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
