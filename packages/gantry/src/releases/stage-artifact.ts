import { constants, createReadStream } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { extract, Parser, type ReadEntry } from "tar";
import { GantryError } from "../errors/index.ts";
import {
  type ArtifactEntry,
  findUnsafeEntry,
  isSkippedEntry,
  type ReleaseLimits,
  unsafeEntryReason,
} from "./entry-safety.ts";
import { readTree, type TreeEntry } from "./tree-checksum.ts";

/**
 * Extracts a .tar.gz into `tree` (which must not exist yet). Every header is read and
 * checked first — alone and as a whole — so an unsafe archive is refused before a single
 * byte is written; extraction then runs with node-tar's own guards and the same check as
 * a filter, and the result is checked once more on disk.
 */
export async function stageArchive(archive: string, tree: string, limits: ReleaseLimits): Promise<void> {
  const entries = await scanArchive(archive, limits);
  const refusal = findUnsafeEntry(entries);
  if (refusal) throw unsafe(`archive entry "${refusal.path}" ${refusal.reason}`);
  await mkdir(tree, { mode: 0o755 });
  try {
    await extract({
      file: archive,
      cwd: tree,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      // A second lock on the door the scan already closed.
      filter: (path, entry) =>
        !isSkippedEntry(path) &&
        (!("type" in entry) || !unsafeEntryReason({ path, type: entry.type, linkpath: entry.linkpath })),
    });
  } catch (cause) {
    if ((cause as { name?: string }).name === "SymlinkError") {
      throw unsafe(`archive ${archive} writes through a symbolic link (${(cause as Error).message})`);
    }
    throw badArchive(archive, cause);
  }
  await checkStagedTree(tree, `archive ${archive}`);
}

/** Reads every header of the archive without writing anything; stops at the first refusal. */
async function scanArchive(archive: string, limits: ReleaseLimits): Promise<ArtifactEntry[]> {
  const entries: ArtifactEntry[] = [];
  let bytes = 0;
  let refusal: GantryError | undefined;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      entry.resume();
      if (refusal || isSkippedEntry(entry.path)) return;
      const described = { path: entry.path, type: entry.type, linkpath: entry.linkpath };
      const reason = unsafeEntryReason(described);
      bytes += entry.size ?? 0;
      refusal = reason
        ? unsafe(`archive entry "${entry.path}" ${reason}`)
        : limitRefusal(limits, entries.length + 1, bytes);
      if (refusal) parser.abort(refusal);
      else entries.push(described);
    },
  });
  const input = createReadStream(archive);
  try {
    await new Promise<void>((resolve, reject) => {
      parser.on("error", reject);
      parser.on("end", () => resolve());
      input.on("error", reject).pipe(parser);
    });
  } catch (cause) {
    input.destroy();
    throw refusal ?? badArchive(archive, cause);
  }
  if (refusal) throw refusal;
  return entries;
}

/**
 * Copies a directory artifact into `tree` (which must not exist yet), leaving out a
 * top-level `.git`. The whole source is listed and checked before anything is copied.
 */
export async function stageDirectory(source: string, tree: string, limits: ReleaseLimits): Promise<void> {
  let bytes = 0;
  let count = 0;
  const listing = await readTree(source, {
    hashFiles: false,
    skip: (path) => path === ".git",
    onEntry: (entry) => {
      count += 1;
      if (entry.type === "File") bytes += entry.size;
      const refusal = limitRefusal(limits, count, bytes);
      if (refusal) throw refusal;
    },
  });
  const refusal = findUnsafeEntry(listing.map(asArtifactEntry));
  if (refusal) throw unsafe(`${join(source, refusal.path)} ${refusal.reason}`);
  await mkdir(tree, { mode: 0o755 });
  for (const entry of listing) {
    const from = join(source, entry.path);
    const to = join(tree, entry.path);
    if (entry.type === "Directory") await mkdir(to, { mode: 0o755 });
    else if (entry.type === "SymbolicLink") await symlink(entry.linkpath, to);
    else if (entry.type === "File") await copyRegularFile(from, to, source);
  }
  await checkStagedTree(tree, `directory ${source}`);
}

/**
 * Copies without following a link: if the source was swapped for a link since it was
 * listed, the copy is refused instead of taking whatever the link points at.
 */
async function copyRegularFile(from: string, to: string, source: string): Promise<void> {
  const handle = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW).catch((cause) => {
    throw changedWhileImporting(source, from, cause);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw changedWhileImporting(source, from);
    await pipeline(handle.createReadStream({ autoClose: false }), (await open(to, "wx")).createWriteStream());
    await chmod(to, info.mode & 0o111 ? 0o755 : 0o644);
  } finally {
    await handle.close();
  }
}

/**
 * The staged tree as it is on disk: modes made uniform (0755 for directories and
 * executables, 0644 for other files: no setuid, nothing unreadable), then checked like an
 * artifact, so no way of building it can leave an unsafe entry behind.
 */
async function checkStagedTree(tree: string, what: string): Promise<void> {
  await normalizeModes(tree);
  const refusal = findUnsafeEntry((await readTree(tree, { hashFiles: false })).map(asArtifactEntry));
  if (refusal) throw unsafe(`${what}: "${refusal.path}" ${refusal.reason}`);
  if (!(await readdir(tree)).length) {
    throw new GantryError("BAD_ARTIFACT", `${what} is empty; a release needs at least one file`, {
      field: "artifact",
    });
  }
}

async function normalizeModes(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) await normalizeModes(path);
    else if (info.isFile()) await chmod(path, info.mode & 0o111 ? 0o755 : 0o644);
  }
}

function asArtifactEntry(entry: TreeEntry): ArtifactEntry {
  if (entry.type === "Other") return { path: entry.path, type: "special file (socket, FIFO or device)" };
  return { path: entry.path, type: entry.type, linkpath: "linkpath" in entry ? entry.linkpath : undefined };
}

function limitRefusal(limits: ReleaseLimits, entries: number, bytes: number): GantryError | undefined {
  if (entries > limits.maxEntries) {
    return new GantryError(
      "BAD_ARTIFACT",
      `the artifact has more than ${limits.maxEntries} entries; leave build caches and sources of dependencies out`,
      { field: "artifact" },
    );
  }
  if (bytes > limits.maxBytes) {
    return new GantryError(
      "BAD_ARTIFACT",
      `the artifact holds more than ${formatBytes(limits.maxBytes)}; leave build caches and large data out`,
      { field: "artifact" },
    );
  }
  return undefined;
}

function unsafe(message: string): GantryError {
  return new GantryError(
    "UNSAFE_ARCHIVE",
    `${message}; nothing was stored. Rebuild the artifact without it.`,
    {
      field: "artifact",
    },
  );
}

function badArchive(archive: string, cause: unknown): GantryError {
  return new GantryError(
    "BAD_ARTIFACT",
    `${archive} is not a readable .tar.gz archive (${(cause as Error).message}); create it with tar -czf`,
    { field: "artifact", cause },
  );
}

function changedWhileImporting(source: string, path: string, cause?: unknown): GantryError {
  return new GantryError(
    "BAD_ARTIFACT",
    `${path} changed while ${source} was being imported; import it again once the build has finished`,
    { field: "artifact", cause },
  );
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(2)} MiB`;
  return `${bytes} bytes`;
}
