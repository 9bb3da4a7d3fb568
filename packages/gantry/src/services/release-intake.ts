import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuditLog } from "../audit/index.ts";
import { GantryError } from "../errors/index.ts";
import type { Release, ServiceCatalog } from "./service-catalog.ts";

export type ImportRelease = (input: {
  dataDir: string;
  service: string;
  version: string;
  artifactPath: string;
}) => Promise<{ dir: string; checksum: string; files: number; bytes: number }>;

export interface ReleaseUpload {
  service: string;
  version: string;
  /** The release as a .tar.gz archive. */
  archive: Buffer;
  env: Record<string, string>;
  /** What this release needs of other services' live versions: {service: semver range}. */
  requires?: Record<string, string>;
  actor: string;
}

/**
 * Takes a release archive from the API: stores it immutably through importRelease and
 * records it. The same version again with the same content and env is accepted as is;
 * with anything different it is refused, because a version names exactly one build.
 */
export class ReleaseIntake {
  readonly #d: ReleaseIntakeDeps;

  constructor(deps: ReleaseIntakeDeps) {
    this.#d = deps;
  }

  async accept(upload: ReleaseUpload): Promise<{ release: Release; created: boolean }> {
    await this.#d.catalog.get(upload.service);
    const staging = await mkdtemp(join(this.#d.dataDir, "upload-"));
    try {
      const artifactPath = join(staging, "release.tar.gz");
      await writeFile(artifactPath, upload.archive);
      return await this.acceptPath({ ...upload, artifactPath });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** The same from a directory or archive on this machine (the demo's release). */
  async acceptPath(
    upload: Omit<ReleaseUpload, "archive"> & { artifactPath: string },
  ): Promise<{ release: Release; created: boolean }> {
    const { catalog } = this.#d;
    await catalog.get(upload.service);
    const requires = upload.requires ?? {};
    {
      const imported = await this.#d.importRelease({
        dataDir: this.#d.dataDir,
        service: upload.service,
        version: upload.version,
        artifactPath: upload.artifactPath,
      });
      const existing = await catalog.findRelease(upload.service, upload.version);
      if (existing) {
        return {
          release: this.#sameOrRefuse(existing, imported.checksum, upload.env, requires),
          created: false,
        };
      }
      const release: Release = {
        service: upload.service,
        version: upload.version,
        checksum: imported.checksum,
        dir: imported.dir,
        env: upload.env,
        files: imported.files,
        bytes: imported.bytes,
        createdAt: this.#d.now().toISOString(),
        createdBy: upload.actor,
        requires,
      };
      await catalog.addRelease(release);
      await this.#d.audit.record({
        actor: upload.actor,
        action: "release.created",
        service: upload.service,
        subject: `release/${upload.version}`,
        data: {
          version: upload.version,
          checksum: release.checksum,
          files: release.files,
          bytes: release.bytes,
          envKeys: Object.keys(upload.env),
          requires,
        },
      });
      return { release, created: true };
    }
  }

  #sameOrRefuse(
    existing: Release,
    checksum: string,
    env: Record<string, string>,
    requires: Record<string, string>,
  ): Release {
    if (existing.checksum !== checksum) {
      throw new GantryError(
        "RELEASE_CONTENT_MISMATCH",
        `${existing.service} ${existing.version} already exists with content ${existing.checksum}, not ${checksum}; give this build a new version`,
        { field: "version" },
      );
    }
    if (JSON.stringify(sorted(existing.env)) !== JSON.stringify(sorted(env))) {
      throw new GantryError(
        "RELEASE_CONTENT_MISMATCH",
        `${existing.service} ${existing.version} already exists with env ${JSON.stringify(sorted(existing.env))}; a release's env is part of it, so give this one a new version`,
        { field: "env" },
      );
    }
    if (JSON.stringify(sorted(existing.requires)) !== JSON.stringify(sorted(requires))) {
      throw new GantryError(
        "RELEASE_CONTENT_MISMATCH",
        `${existing.service} ${existing.version} already exists requiring ${JSON.stringify(sorted(existing.requires))}; give this one a new version`,
        { field: "requires" },
      );
    }
    return existing;
  }
}

export interface ReleaseIntakeDeps {
  dataDir: string;
  catalog: ServiceCatalog;
  audit: AuditLog;
  importRelease: ImportRelease;
  now: () => Date;
}

function sorted(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}
