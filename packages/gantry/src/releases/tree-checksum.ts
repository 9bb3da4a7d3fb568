import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

export interface TreeSummary {
  /** "sha256:<hex>" over the content, see `checksumOf`. */
  checksum: string;
  /** Regular files (hard links count once per path). */
  files: number;
  /** Bytes of the regular files. */
  bytes: number;
}

/** One entry of a tree on disk, as the checksum sees it. */
export type TreeEntry =
  | { path: string; type: "Directory" }
  | { path: string; type: "File"; executable: boolean; sha256: string; size: number }
  | { path: string; type: "SymbolicLink"; linkpath: string }
  | { path: string; type: "Other" };

/**
 * Every entry under `root`, depth first, without following links. Paths are relative,
 * '/'-separated. Sockets, FIFOs and devices come back as "Other" so callers can refuse them.
 */
export async function readTree(
  root: string,
  options: {
    /** Off to list only (file entries then carry an empty sha256). */
    hashFiles?: boolean;
    /** Paths to leave out, with everything under them. */
    skip?: (path: string) => boolean;
    /** Called on each entry as it is found; throw to stop the walk. */
    onEntry?: (entry: TreeEntry) => void;
  } = {},
): Promise<TreeEntry[]> {
  const hashFiles = options.hashFiles ?? true;
  const entries: TreeEntry[] = [];
  const add = (entry: TreeEntry): void => {
    options.onEntry?.(entry);
    entries.push(entry);
  };
  const walk = async (relative: string): Promise<void> => {
    for (const name of await readdir(join(root, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      if (options.skip?.(path)) continue;
      const absolute = join(root, path);
      const info = await lstat(absolute);
      if (info.isDirectory()) {
        add({ path, type: "Directory" });
        await walk(path);
      } else if (info.isSymbolicLink()) {
        add({ path, type: "SymbolicLink", linkpath: await readlink(absolute) });
      } else if (info.isFile()) {
        const sha256 = hashFiles ? await fileSha256(absolute) : "";
        add({ path, type: "File", executable: (info.mode & 0o111) !== 0, sha256, size: info.size });
      } else {
        add({ path, type: "Other" });
      }
    }
  };
  await walk("");
  return entries;
}

/**
 * The checksum of a release is over its content, not its packaging, so the same tree as a
 * directory or as a .tar.gz has the same checksum. Exactly:
 *
 *   1. one record per entry below the root (the root itself has none), where <path> is
 *      relative to the root, '/'-separated, without "./" or a trailing '/':
 *        ["d", <path>]                          a directory
 *        ["f", <path>, "x" | "-", <sha256 hex>] a regular file; "x" when any of its
 *                                               executable bits (0o111) is set, and the
 *                                               lower-case hex sha256 of its bytes
 *        ["l", <path>, <link target>]           a symbolic link, target as stored
 *      (hard links in an archive are files like any other);
 *   2. each record written as JSON (JSON.stringify of the array: no spaces, strings
 *      escaped, so no path can forge a record boundary), followed by "\n";
 *   3. records sorted by the UTF-8 bytes of <path>;
 *   4. checksum = "sha256:" + lower-case hex sha256 of the concatenated records.
 *
 * Owners, times and other mode bits are not part of it: they are packaging.
 */
export function checksumOf(entries: readonly TreeEntry[]): TreeSummary {
  const records: [Buffer, string][] = [];
  let files = 0;
  let bytes = 0;
  for (const entry of entries) {
    let record: string[];
    if (entry.type === "Directory") record = ["d", entry.path];
    else if (entry.type === "SymbolicLink") record = ["l", entry.path, entry.linkpath];
    else if (entry.type === "File") {
      files += 1;
      bytes += entry.size;
      record = ["f", entry.path, entry.executable ? "x" : "-", entry.sha256];
    } else throw new Error(`${entry.path} is neither a file, a directory nor a link`);
    records.push([Buffer.from(entry.path), `${JSON.stringify(record)}\n`]);
  }
  records.sort(([a], [b]) => Buffer.compare(a, b));
  const hash = createHash("sha256");
  for (const [, record] of records) hash.update(record);
  return { checksum: `sha256:${hash.digest("hex")}`, files, bytes };
}

/** The content checksum of the tree under `root` (see `checksumOf`). */
export async function treeChecksum(root: string): Promise<TreeSummary> {
  return checksumOf(await readTree(root));
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
