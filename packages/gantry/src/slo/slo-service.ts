import type { AuditLog } from "../audit/index.ts";
import { formatDuration, type SloSpec, sloToInput } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import { importOpenSlo, type OpenSloImportOptions } from "./openslo.ts";
import { prometheusRules } from "./prometheus-rules.ts";
import type { SliStore } from "./sli-store.ts";
import { serviceSlis, type VersionSli } from "./sli-summary.ts";
import type { SloCatalog, SloSource } from "./slo-catalog.ts";
import type { SloEngine, SloStatus } from "./slo-engine.ts";

/** What the API and CLI show of an SLO: its declaration and how it stands now. */
export interface SloView {
  name: string;
  source: SloSource;
  declared: unknown;
  service: string;
  sli: string;
  objective: number;
  window: string;
  status: SloStatus | null;
}

export interface SloServiceDeps {
  catalog: SloCatalog;
  engine: SloEngine;
  store: SliStore;
  audit: AuditLog;
  /** Whether a service is known (declared in gantry.yaml, the API or the demo). */
  serviceExists: (name: string) => Promise<boolean>;
  now: () => Date;
}

/** SLOs for the API: declarations, live status, OpenSLO import and Prometheus export. */
export class SloService {
  readonly #deps: SloServiceDeps;

  constructor(deps: SloServiceDeps) {
    this.#deps = deps;
  }

  async list(): Promise<SloView[]> {
    await this.#deps.engine.settled();
    const statuses = new Map(this.#deps.engine.evaluate().map((s) => [s.name, s]));
    return (await this.#deps.catalog.list()).map((s) =>
      view(s.name, s.source, s.spec, statuses.get(s.name) ?? null),
    );
  }

  async get(name: string): Promise<SloView> {
    const slo = await this.#deps.catalog.get(name);
    await this.#deps.engine.settled();
    return view(slo.name, slo.source, slo.spec, this.#deps.engine.evaluate(name)[0] ?? null);
  }

  /** Adds or replaces SLOs after checking their services exist; all or none. */
  async put(entries: { name: string; spec: SloSpec }[], source: SloSource, actor: string): Promise<void> {
    for (const { name, spec } of entries) {
      if (!(await this.#deps.serviceExists(spec.service)))
        throw new GantryError(
          "UNKNOWN_SERVICE",
          `SLO ${name}: service "${spec.service}" is not declared; declare it in gantry.yaml (services:) or through the API first`,
          { field: `${name}.service` },
        );
    }
    await this.#deps.catalog.put(entries, source);
    for (const { name, spec } of entries)
      await this.#deps.audit.record({
        actor,
        action: "slo.declared",
        service: spec.service,
        subject: `slo/${name}`,
        data: { source, spec: sloToInput(spec) },
      });
    await this.#deps.engine.settled();
  }

  async delete(name: string, actor: string): Promise<void> {
    const slo = await this.#deps.catalog.delete(name);
    await this.#deps.audit.record({
      actor,
      action: "slo.deleted",
      service: slo.spec.service,
      subject: `slo/${name}`,
    });
    await this.#deps.engine.settled();
  }

  /** Reads OpenSLO YAML; stores the SLOs unless it is a dry run. */
  async importOpenSlo(
    text: string,
    actor: string,
    dryRun: boolean,
    options: OpenSloImportOptions = {},
  ): Promise<{ name: string; spec: SloSpec }[]> {
    const slos = importOpenSlo(text, options);
    if (!dryRun) await this.put(slos, "openslo", actor);
    return slos;
  }

  async prometheusRules(): Promise<string> {
    return prometheusRules((await this.#deps.catalog.list()).map((s) => ({ name: s.name, spec: s.spec })));
  }

  async slis(service: string, window: number): Promise<VersionSli[]> {
    if (window > this.#deps.store.settings.retention)
      throw new GantryError(
        "BAD_REQUEST",
        `window ${formatDuration(window)} is longer than the ${formatDuration(this.#deps.store.settings.retention)} of SLI history kept (sli.retention)`,
        { field: "window" },
      );
    return serviceSlis(this.#deps.store, service, window, this.#deps.now().getTime());
  }
}

/** "availability", "latency <= 250ms (v2)" or "ratio (Prometheus)". */
function sliText(sli: SloSpec["sli"]): string {
  if (sli.type === "ratio") return "ratio (Prometheus)";
  const text = sli.type === "availability" ? "availability" : `latency <= ${formatDuration(sli.threshold)}`;
  return sli.version ? `${text} (${sli.version})` : text;
}

function view(name: string, source: SloSource, spec: SloSpec, status: SloStatus | null): SloView {
  const declared = sloToInput(spec);
  return {
    name,
    source,
    declared,
    service: spec.service,
    sli: sliText(spec.sli),
    objective: spec.objective,
    window:
      spec.window.type === "rolling"
        ? `${formatDuration(spec.window.duration)} rolling`
        : `calendar ${spec.window.unit} (${spec.window.timeZone})`,
    status,
  };
}
