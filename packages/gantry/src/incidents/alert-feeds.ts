import type { Logger } from "pino";
import type { AuditLog } from "../audit/index.ts";
import type { ExperimentAlertSpec } from "../config/index.ts";
import type { SloEngine } from "../slo/index.ts";
import { experimentAlert, rolloutAlert, sloAlerts } from "./alert-sources.ts";
import type { IncidentService } from "./incident-service.ts";

/**
 * Turns SLO evaluations into alerts: after every SLI sample, each SLO's page and ticket
 * conditions are compared with the alerts firing in the store, and only changes are reported
 * (so a restart neither repeats nor loses one). Alerts of SLOs that no longer exist resolve;
 * those of an SLO whose SLI Prometheus cannot answer now neither fire nor resolve.
 */
export class SloAlertFeed {
  readonly #engine: SloEngine;
  readonly #incidents: IncidentService;
  readonly #log: Logger | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: { engine: SloEngine; incidents: IncidentService; log?: Logger }) {
    this.#engine = deps.engine;
    this.#incidents = deps.incidents;
    this.#log = deps.log;
  }

  /** Evaluates now; a call while one runs is skipped (the next sample comes soon). */
  evaluate(): Promise<void> {
    this.#running ??= this.#evaluate()
      .catch((err) => this.#log?.error({ err }, "SLO alert evaluation failed"))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #evaluate(): Promise<void> {
    // From the store each time: a person resolving an incident resolves its alerts, and a
    // condition still there must then fire anew.
    const firing = new Set((await this.#incidents.firingAlerts("slo")).map((a) => a.key));
    const seen = new Set<string>();
    const statuses = this.#engine.evaluate();
    // While an SLO's SLI cannot be read (Prometheus away), its alerts keep their state: its
    // windows empty for want of data, which is no sign of health.
    const unread = statuses.filter((s) => s.sliSource.kind === "prometheus" && !s.sliSource.ok);
    for (const s of unread) for (const level of ["page", "ticket"]) seen.add(`slo/${s.name}/${level}`);
    for (const alert of sloAlerts(statuses.filter((s) => !unread.includes(s)))) {
      seen.add(alert.key);
      const was = firing.has(alert.key);
      if (alert.status === "firing" && !was) {
        await this.#incidents.ingest(alert);
        firing.add(alert.key);
      } else if (alert.status === "resolved" && was) {
        await this.#incidents.ingest(alert);
        firing.delete(alert.key);
      }
    }
    for (const key of [...firing]) {
      if (seen.has(key)) continue;
      const [, name, level] = key.split("/");
      await this.#incidents.ingest({
        source: "slo",
        key,
        dedupKey: `slo/${name}`,
        status: "resolved",
        severity: level === "page" ? "high" : "medium",
        summary: `SLO ${name} was removed`,
        service: null,
        details: {},
      });
      firing.delete(key);
    }
  }
}

/**
 * Experiments with an alert rule (gantry.yaml `experiments:`), looked at after each batch of
 * results: an alert fires when the latest runs mismatch too often and resolves when they no
 * longer do; only changes against the alerts firing in the store are reported.
 */
export class ExperimentAlertFeed {
  readonly #rules: Record<string, ExperimentAlertSpec>;
  readonly #recent: (name: string, limit: number) => Promise<{ runs: number; mismatched: number }>;
  readonly #incidents: IncidentService;
  readonly #log: Logger | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(deps: {
    rules: Record<string, ExperimentAlertSpec>;
    recent: (name: string, limit: number) => Promise<{ runs: number; mismatched: number }>;
    incidents: IncidentService;
    log?: Logger;
  }) {
    this.#rules = deps.rules;
    this.#recent = deps.recent;
    this.#incidents = deps.incidents;
    this.#log = deps.log;
  }

  /** Re-evaluates the named experiments' rules (one evaluation at a time, in order). */
  evaluate(names: Iterable<string>): Promise<void> {
    const due = [...new Set(names)].filter((n) => this.#rules[n] !== undefined);
    if (due.length === 0) return this.#chain;
    this.#chain = this.#chain
      .then(() => this.#evaluate(due))
      .catch((err) => this.#log?.error({ err }, "experiment alert evaluation failed"));
    return this.#chain;
  }

  async #evaluate(names: string[]): Promise<void> {
    const firing = new Set((await this.#incidents.firingAlerts("experiment")).map((a) => a.key));
    for (const name of names) {
      const rule = this.#rules[name]!;
      const alert = experimentAlert(name, rule, await this.#recent(name, rule.window));
      if ((alert.status === "firing") !== firing.has(alert.key)) await this.#incidents.ingest(alert);
    }
  }
}

/** Failed rollouts become alerts on their service; the next successful rollout resolves them. */
export function feedRolloutAlerts(audit: AuditLog, incidents: IncidentService, log?: Logger): void {
  audit.onRecord((event) => {
    const alert = rolloutAlert(event);
    if (alert) void incidents.ingest(alert).catch((err) => log?.error({ err }, "rollout alert failed"));
  });
}
