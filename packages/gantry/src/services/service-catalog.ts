import type { Insertable, Kysely, Selectable } from "kysely";
import { type ServiceSpec, serviceSpec } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import type { RouteCohorts } from "../router/cohorts.ts";
import type { ServiceMode } from "../router/policy.ts";
import type { ShadowSettings } from "../router/shadow.ts";
import type { Database } from "../store/index.ts";

export interface Service {
  name: string;
  spec: ServiceSpec;
  source: "config" | "api";
  createdAt: string;
  updatedAt: string;
}

export interface Release {
  service: string;
  version: string;
  checksum: string;
  dir: string;
  env: Record<string, string>;
  files: number;
  bytes: number;
  createdAt: string;
  createdBy: string;
  /** What it needs of other services' live versions: {service: semver range}. */
  requires: Record<string, string>;
}

export interface TrafficShare {
  version: string;
  weight: number;
}

/** During a phased rollout, users decide the version: groups, then a sticky percentage. */
export interface CohortTraffic {
  cohorts: RouteCohorts;
}

/** All traffic to one version, with a share of it copied to a candidate that never answers. */
export interface ShadowTraffic {
  primary: string;
  shadow: ShadowSettings;
}

/** Shares by version, every ready instance alike ("by-instances"), cohorts of users, or shadowed. */
export type Traffic = TrafficShare[] | "by-instances" | CohortTraffic | ShadowTraffic;

export interface ServiceState {
  service: string;
  liveVersion: string | null;
  traffic: Traffic;
  mode: ServiceMode;
  idle: { version: string; until: string } | null;
  switches: Switches;
}

/** What operators switched by hand, each with who, when and why. */
export interface Switches {
  mode?: {
    mode: "read-only" | "maintenance";
    reason: string | null;
    actor: string;
    at: string;
    until: string | null;
  };
  breaker?: { state: "open" | "closed"; reason: string | null; actor: string; at: string };
  lock?: { reason: string; actor: string; at: string };
}

/** Declared services, their releases and their traffic state, as stored. */
export class ServiceCatalog {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  async list(): Promise<Service[]> {
    const rows = await this.#db.selectFrom("services").selectAll().orderBy("name").execute();
    return rows.map(toService);
  }

  async find(name: string): Promise<Service | undefined> {
    const row = await this.#db.selectFrom("services").selectAll().where("name", "=", name).executeTakeFirst();
    return row ? toService(row) : undefined;
  }

  async get(name: string): Promise<Service> {
    const service = await this.find(name);
    if (service) return service;
    const known = (await this.list()).map((s) => s.name);
    throw new GantryError(
      "UNKNOWN_SERVICE",
      `unknown service "${name}"; known services: ${known.length ? known.join(", ") : "none"}. Declare it in gantry.yaml or with PUT /api/v1/services/${name}`,
      { field: "service" },
    );
  }

  /** Declares or updates a service. Returns whether anything changed. */
  async put(name: string, spec: ServiceSpec, source: Service["source"]): Promise<boolean> {
    const now = this.#now().toISOString();
    const existing = await this.find(name);
    const json = JSON.stringify(spec);
    if (existing && JSON.stringify(existing.spec) === json && existing.source === source) return false;
    await this.#db
      .insertInto("services")
      .values({ name, spec: json, source, created_at: now, updated_at: now })
      .onConflict((c) => c.column("name").doUpdateSet({ spec: json, source, updated_at: now }))
      .execute();
    return true;
  }

  async findRelease(service: string, version: string): Promise<Release | undefined> {
    const row = await this.#db
      .selectFrom("releases")
      .selectAll()
      .where("service", "=", service)
      .where("version", "=", version)
      .executeTakeFirst();
    return row ? toRelease(row) : undefined;
  }

  async getRelease(service: string, version: string): Promise<Release> {
    const release = await this.findRelease(service, version);
    if (release) return release;
    throw new GantryError(
      "NOT_FOUND",
      `service "${service}" has no release "${version}"; deploy it with --artifact PATH --version ${version}`,
      { field: "version" },
    );
  }

  async listReleases(service: string): Promise<Release[]> {
    const rows = await this.#db
      .selectFrom("releases")
      .selectAll()
      .where("service", "=", service)
      .orderBy("created_at")
      .execute();
    return rows.map(toRelease);
  }

  async addRelease(release: Release): Promise<void> {
    await this.#db
      .insertInto("releases")
      .values({
        service: release.service,
        version: release.version,
        checksum: release.checksum,
        dir: release.dir,
        env: JSON.stringify(release.env),
        files: release.files,
        bytes: release.bytes,
        created_at: release.createdAt,
        created_by: release.createdBy,
        requires: JSON.stringify(release.requires),
      } satisfies Insertable<Database["releases"]>)
      .execute();
  }

  async state(service: string): Promise<ServiceState> {
    const row = await this.#db
      .selectFrom("service_state")
      .selectAll()
      .where("service", "=", service)
      .executeTakeFirst();
    if (!row) return { service, liveVersion: null, traffic: [], mode: "normal", idle: null, switches: {} };
    return {
      service,
      liveVersion: row.live_version,
      traffic: JSON.parse(row.traffic),
      mode: row.mode as ServiceMode,
      idle: row.idle ? JSON.parse(row.idle) : null,
      switches: JSON.parse(row.switches),
    };
  }

  async saveState(state: ServiceState): Promise<void> {
    const values = {
      live_version: state.liveVersion,
      traffic: JSON.stringify(state.traffic),
      mode: state.mode,
      idle: state.idle ? JSON.stringify(state.idle) : null,
      switches: JSON.stringify(state.switches),
      updated_at: this.#now().toISOString(),
    };
    await this.#db
      .insertInto("service_state")
      .values({ service: state.service, ...values })
      .onConflict((c) => c.column("service").doUpdateSet(values))
      .execute();
  }
}

function toService(row: Database["services"]): Service {
  return {
    name: row.name,
    spec: serviceSpec.parse(JSON.parse(row.spec)),
    source: row.source as Service["source"],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRelease(row: Selectable<Database["releases"]>): Release {
  return {
    service: row.service,
    version: row.version,
    checksum: row.checksum,
    dir: row.dir,
    env: JSON.parse(row.env),
    files: row.files,
    bytes: Number(row.bytes),
    createdAt: row.created_at,
    createdBy: row.created_by,
    requires: JSON.parse(row.requires),
  };
}
