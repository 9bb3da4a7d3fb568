import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GantryError } from "../errors/index.ts";
import { stageArchive, stageDirectory } from "./stage-artifact.ts";
import { type TreeSummary, treeChecksum } from "./tree-checksum.ts";

export interface ImportedRelease extends TreeSummary {
  service: string;
  version: string;
  /** Absolute path of the stored, immutable copy. */
  dir: string;
}

/**
 * Stores an artifact (a directory or a .tar.gz/.tgz) as release `version` of `service` in
 * DATA/releases/SERVICE/VERSION, with its content checksum. Everything is staged first and
 * moved into place with one rename, so a refused or failed import leaves nothing behind.
 * The same version again with the same content is a no-op; with other content it is refused.
 */
export async function importRelease(input: {
  dataDir: string;
  service: string;
  version: string;
  artifactPath: string;
}): Promise<ImportedRelease> {
  const kind = await artifactKind(input.artifactPath);
  const root = join(input.dataDir, "releases");
  const stagingRoot = join(root, ".staging");
  await mkdir(stagingRoot, { recursive: true, mode: 0o700 });
  const staging = join(stagingRoot, `${input.service}-${input.version}-${randomBytes(6).toString("hex")}`);
  await mkdir(staging, { mode: 0o755 });
  try {
    if (kind === "directory") await stageDirectory(input.artifactPath, staging);
    else await stageArchive(input.artifactPath, staging);
    const summary = await treeChecksum(staging);
    const dir = join(root, input.service, input.version);
    await mkdir(join(root, input.service), { recursive: true });
    if (!existsSync(dir)) {
      try {
        await rename(staging, dir);
        await writeFile(`${dir}.json`, `${JSON.stringify(summary)}\n`);
        return { ...input, ...summary, dir };
      } catch (error) {
        // Another import of the same version won the race; compare with what it stored.
        if (!existsSync(dir)) throw error;
      }
    }
    const existing = await storedSummary(dir);
    if (existing.checksum !== summary.checksum) {
      throw new GantryError(
        "RELEASE_CONTENT_MISMATCH",
        `${input.service} ${input.version} already exists with content ${existing.checksum}, and this artifact is ${summary.checksum}; give this build a new version`,
        { field: "version" },
      );
    }
    return { service: input.service, version: input.version, ...existing, dir };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function artifactKind(path: string): Promise<"directory" | "archive"> {
  const info = await stat(path).catch(() => undefined);
  if (!info)
    throw new GantryError(
      "BAD_ARTIFACT",
      `artifact ${path} does not exist; give a directory or a .tar.gz/.tgz file`,
      { field: "artifact" },
    );
  if (info.isDirectory()) return "directory";
  if (info.isFile() && /\.(tgz|tar\.gz)$/.test(path)) return "archive";
  throw new GantryError(
    "BAD_ARTIFACT",
    `artifact ${path} is neither a directory nor a .tar.gz/.tgz archive`,
    { field: "artifact" },
  );
}

async function storedSummary(dir: string): Promise<TreeSummary> {
  try {
    return JSON.parse(await readFile(`${dir}.json`, "utf8"));
  } catch {
    // Stored before its summary was written (a crash in between): the tree is the truth.
    const summary = await treeChecksum(dir);
    await writeFile(`${dir}.json`, `${JSON.stringify(summary)}\n`);
    return summary;
  }
}
