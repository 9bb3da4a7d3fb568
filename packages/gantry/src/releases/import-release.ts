import { mkdir, mkdtemp, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { GantryError } from "../errors/index.ts";
import { type ReleaseLimits, releaseLimits } from "./entry-safety.ts";
import {
  findRelease,
  type ImportedRelease,
  type ReleaseKey,
  releaseDir,
  stagingRoot,
  writeSummary,
} from "./release-store.ts";
import { stageArchive, stageDirectory } from "./stage-artifact.ts";
import { treeChecksum } from "./tree-checksum.ts";

/** Staging folders older than this belong to an import that died; they are swept away. */
const abandonedAfterMs = 24 * 3600_000;

/**
 * Stores an artifact (a directory, or a .tar.gz/.tgz archive) as release `version` of
 * `service` in DATA/releases/SERVICE/VERSION, with its content checksum (see checksumOf).
 *
 * Everything happens in a fresh folder under DATA/releases/.staging and reaches its place
 * in one rename, so a refused or failed import leaves nothing behind and a reader never
 * sees half a release. The same version again with the same content returns the stored
 * release untouched; with other content it is refused (RELEASE_CONTENT_MISMATCH). Two
 * imports of one version at once: one rename wins, the other compares checksums.
 */
export async function importRelease(input: {
  dataDir: string;
  service: string;
  version: string;
  artifactPath: string;
  /** Defaults to releaseLimits (50,000 entries, 1 GiB). */
  limits?: Partial<ReleaseLimits>;
}): Promise<ImportedRelease> {
  const limits = { ...releaseLimits, ...input.limits };
  const key: ReleaseKey = { dataDir: resolve(input.dataDir), service: input.service, version: input.version };
  const dir = releaseDir(key);
  const kind = await artifactKind(input.artifactPath);
  if (kind === "directory") await refuseEnclosingDataDir(input.artifactPath, key.dataDir);
  await mkdir(stagingRoot(key.dataDir), { recursive: true, mode: 0o700 });
  await sweepAbandoned(stagingRoot(key.dataDir));
  const staging = await mkdtemp(join(stagingRoot(key.dataDir), "import-"));
  try {
    const tree = join(staging, "tree");
    if (kind === "directory") await stageDirectory(input.artifactPath, tree, limits);
    else await stageArchive(input.artifactPath, tree, limits);
    const summary = await treeChecksum(tree);
    await mkdir(resolve(dir, ".."), { recursive: true });
    if (!(await exists(dir))) {
      try {
        await rename(tree, dir);
        await writeSummary(key, summary);
        return { service: key.service, version: key.version, dir, ...summary };
      } catch (error) {
        // Another import of this version renamed first: fall through and compare with it.
        if (!(await exists(dir))) throw error;
      }
    }
    const existing = await findRelease(key);
    if (!existing) throw new Error(`${dir} vanished while importing ${key.service} ${key.version}`);
    if (existing.checksum !== summary.checksum) {
      throw new GantryError(
        "RELEASE_CONTENT_MISMATCH",
        `${key.service} ${key.version} is already stored with content ${existing.checksum}, and this artifact is ${summary.checksum}; a version names exactly one build, so give this build a new version`,
        { field: "version", details: { stored: existing.checksum, given: summary.checksum } },
      );
    }
    return existing;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function artifactKind(path: string): Promise<"directory" | "archive"> {
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new GantryError(
      "BAD_ARTIFACT",
      `artifact ${path} does not exist; give the path of a build directory or of a .tar.gz/.tgz archive`,
      { field: "artifact" },
    );
  }
  if (info.isDirectory()) return "directory";
  if (info.isFile() && /\.(tgz|tar\.gz)$/i.test(path)) return "archive";
  throw new GantryError(
    "BAD_ARTIFACT",
    `artifact ${path} is neither a directory nor a .tar.gz/.tgz archive; pack it with tar -czf NAME.tar.gz -C DIR .`,
    { field: "artifact" },
  );
}

/** Importing a folder that holds the data dir would copy every release (and itself) again. */
async function refuseEnclosingDataDir(artifact: string, dataDir: string): Promise<void> {
  const data = await realpath(dataDir).catch(() => resolve(dataDir));
  const inside = relative(await realpath(artifact), data);
  if (inside === "" || !(inside === ".." || inside.startsWith("../") || inside.startsWith("/"))) {
    throw new GantryError(
      "BAD_ARTIFACT",
      `artifact ${artifact} contains Gantry's data dir ${dataDir}; give the build's output folder, or move the data dir out of it`,
      { field: "artifact" },
    );
  }
}

async function sweepAbandoned(root: string): Promise<void> {
  const cutoff = Date.now() - abandonedAfterMs;
  for (const name of await readdir(root).catch(() => [])) {
    const info = await stat(join(root, name)).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) await rm(join(root, name), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
