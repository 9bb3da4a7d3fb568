import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { serviceName, versionName } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import { type TreeSummary, treeChecksum } from "./tree-checksum.ts";

/**
 * Where releases live:
 *
 *   DATA/releases/SERVICE/VERSION/                 the stored tree (never changed)
 *   DATA/releases/SERVICE/.checksums/VERSION.json  its TreeSummary
 *   DATA/releases/.staging/                        imports and removals under way
 *
 * Service names start with a letter and versions with a letter or digit, so neither can
 * be mistaken for the dot-folders.
 */
export interface ImportedRelease extends TreeSummary {
  service: string;
  version: string;
  /** Absolute path of the stored, immutable copy. */
  dir: string;
}

export interface ReleaseKey {
  dataDir: string;
  service: string;
  version: string;
}

/** Absolute path of a release's stored tree; refuses names that could point elsewhere. */
export function releaseDir(key: ReleaseKey): string {
  checkName("version", versionName.safeParse(key.version).success, key.version);
  return resolve(serviceDir(key.dataDir, key.service), key.version);
}

function serviceDir(dataDir: string, service: string): string {
  checkName("service", serviceName.safeParse(service).success, service);
  return resolve(dataDir, "releases", service);
}

export function stagingRoot(dataDir: string): string {
  return resolve(dataDir, "releases", ".staging");
}

function summaryPath(key: ReleaseKey): string {
  return resolve(key.dataDir, "releases", key.service, ".checksums", `${key.version}.json`);
}

/** The stored release, or undefined when this version was never imported. */
export async function findRelease(key: ReleaseKey): Promise<ImportedRelease | undefined> {
  const dir = releaseDir(key);
  if (!(await isDirectory(dir))) return undefined;
  let summary: TreeSummary;
  try {
    summary = JSON.parse(await readFile(summaryPath(key), "utf8"));
  } catch {
    // Stored but its summary not yet written (an import finishing, or one cut short
    // between the two renames): the tree is the truth.
    summary = await treeChecksum(dir);
    await writeSummary(key, summary);
  }
  return { service: key.service, version: key.version, dir, ...summary };
}

/** Every stored release of `service`, by version name. */
export async function listReleases(dataDir: string, service: string): Promise<ImportedRelease[]> {
  const names = await readdir(serviceDir(dataDir, service), { withFileTypes: true }).catch(() => []);
  const releases: ImportedRelease[] = [];
  for (const entry of names) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const release = await findRelease({ dataDir, service, version: entry.name });
    if (release) releases.push(release);
  }
  return releases.sort((a, b) => a.version.localeCompare(b.version, "en", { numeric: true }));
}

/**
 * Deletes a stored release (the caller makes sure nothing runs from it). The tree is
 * first moved out of sight in one rename, so no one sees it half deleted. Returns false
 * when there was nothing to remove.
 */
export async function removeRelease(key: ReleaseKey): Promise<boolean> {
  const dir = releaseDir(key);
  const trash = join(stagingRoot(key.dataDir), `remove-${randomBytes(6).toString("hex")}`);
  await mkdir(stagingRoot(key.dataDir), { recursive: true, mode: 0o700 });
  try {
    await rename(dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  await rm(summaryPath(key), { force: true });
  await rm(trash, { recursive: true, force: true });
  return true;
}

/**
 * Recomputes a stored release's checksum: `intact` is false when someone changed the tree
 * after it was imported.
 */
export async function verifyRelease(
  key: ReleaseKey,
): Promise<{ release: ImportedRelease; actual: string; intact: boolean } | undefined> {
  const release = await findRelease(key);
  if (!release) return undefined;
  const { checksum } = await treeChecksum(release.dir);
  return { release, actual: checksum, intact: checksum === release.checksum };
}

/** Writes the summary next to the tree in one rename, so a reader never sees half of it. */
export async function writeSummary(key: ReleaseKey, summary: TreeSummary): Promise<void> {
  const target = summaryPath(key);
  await mkdir(resolve(target, ".."), { recursive: true });
  const temporary = join(stagingRoot(key.dataDir), `summary-${randomBytes(6).toString("hex")}.json`);
  await mkdir(stagingRoot(key.dataDir), { recursive: true, mode: 0o700 });
  const { checksum, files, bytes } = summary;
  await writeFile(temporary, `${JSON.stringify({ checksum, files, bytes })}\n`);
  await rename(temporary, target);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function checkName(field: "service" | "version", valid: boolean, value: string): void {
  if (valid) return;
  const rule =
    field === "service"
      ? "lower-case letters, digits and dashes, starting with a letter"
      : "letters, digits, '.', '_', '+' and '-', starting with a letter or digit (e.g. v2 or 1.4.0)";
  throw new GantryError("BAD_REQUEST", `${field} ${JSON.stringify(value)} is not valid: use ${rule}`, {
    field,
  });
}
