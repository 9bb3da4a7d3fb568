import { copyFile, lstat, mkdir, readdir, readlink, symlink } from "node:fs/promises";
import { join } from "node:path";
import { extract, list } from "tar";
import { GantryError } from "../errors/index.ts";
import { linkLeaves, releaseLimits, unsafeEntryReason } from "./entry-safety.ts";

/**
 * Checks every entry of a .tar.gz before anything is written, then extracts it into
 * `staging` (a fresh directory). Any unsafe entry refuses the whole archive.
 */
export async function stageArchive(archive: string, staging: string): Promise<void> {
  let entries = 0;
  let bytes = 0;
  let refusal: GantryError | undefined;
  try {
    await list({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        entries += 1;
        bytes += entry.size ?? 0;
        const reason = unsafeEntryReason({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
        if (reason && !refusal) refusal = unsafe(`archive entry "${entry.path}" ${reason}`);
        entry.resume();
      },
    });
  } catch (cause) {
    throw new GantryError(
      "BAD_ARTIFACT",
      `${archive} is not a readable .tar.gz archive (${(cause as Error).message}); create it with tar -czf`,
      {
        field: "artifact",
        cause,
      },
    );
  }
  if (refusal) throw refusal;
  checkLimits(entries, bytes);
  await extract({
    file: archive,
    cwd: staging,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    // The pre-scan already refused unsafe entries; this is a second lock on the same door.
    filter: (path, entry) =>
      !("type" in entry) || !unsafeEntryReason({ path, type: entry.type, linkpath: entry.linkpath }),
  });
}

/** Copies a directory artifact into `staging`, refusing links that leave it and special files. */
export async function stageDirectory(source: string, staging: string): Promise<void> {
  let entries = 0;
  let bytes = 0;
  const walk = async (relative: string): Promise<void> => {
    for (const name of await readdir(join(source, relative))) {
      if (relative === "" && name === ".git") continue;
      const path = relative ? `${relative}/${name}` : name;
      const info = await lstat(join(source, path));
      entries += 1;
      bytes += info.size;
      checkLimits(entries, bytes);
      if (info.isDirectory()) {
        await mkdir(join(staging, path), { mode: 0o755 });
        await walk(path);
      } else if (info.isSymbolicLink()) {
        const target = await readlink(join(source, path));
        const reason = linkLeaves(path, target);
        if (reason) throw unsafe(`${join(source, path)} ${reason}`);
        await symlink(target, join(staging, path));
      } else if (info.isFile()) {
        await copyFile(join(source, path), join(staging, path));
      } else {
        throw unsafe(
          `${join(source, path)} is a special file (device, FIFO or socket), which a release may not contain`,
        );
      }
    }
  };
  await walk("");
}

function checkLimits(entries: number, bytes: number): void {
  if (entries > releaseLimits.maxEntries) {
    throw new GantryError(
      "BAD_ARTIFACT",
      `the artifact has more than ${releaseLimits.maxEntries} entries; leave build caches and dependencies' sources out`,
      {
        field: "artifact",
      },
    );
  }
  if (bytes > releaseLimits.maxBytes) {
    throw new GantryError(
      "BAD_ARTIFACT",
      `the artifact is larger than ${releaseLimits.maxBytes / 1024 ** 3} GiB`,
      { field: "artifact" },
    );
  }
}

function unsafe(message: string): GantryError {
  return new GantryError(
    "UNSAFE_ARCHIVE",
    `${message}; nothing was stored. Rebuild the artifact without it.`,
    { field: "artifact" },
  );
}
