import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/index.ts";
import type { Principal } from "../auth/index.ts";
import { GantryError, isGantryError } from "../errors/index.ts";
import { type BisectState, maxChecks, nextStep, recordCheck, startBisect } from "./bisect.ts";
import {
  type BisectCheck,
  type CheckOutcome,
  type CheckSettings,
  describeCheck,
  parseCheck,
} from "./bisect-check.ts";
import { type Probes, runCheck } from "./bisect-probe.ts";
import {
  type BisectChange,
  type BisectRecord,
  type BisectResult,
  type BisectStore,
  publicRecord,
  type RestoreReport,
} from "./bisect-store.ts";
import {
  type ItemKind,
  type ItemProjection,
  itemId,
  type PrefixTarget,
  prefixSet,
  projections,
  sameProjection,
  valueAt,
  type WindowChange,
  windowChanges,
  windowItems,
  withProjections,
} from "./bisect-window.ts";
import type { ChangeBy, FlagService } from "./flag-service.ts";

export interface BisectRequest extends CheckSettings {
  /** The environment whose changes are searched. */
  environment: string;
  since: Date;
  check: string;
  /** Apply the prefixes to this environment instead (e.g. staging); the source by default. */
  on?: string | undefined;
  /** How long to wait after applying a prefix before checking (apps pick flags up). */
  settleMs?: number | undefined;
  reason?: string | undefined;
}

/** What a bisection would do: the changes it searches and how many checks it may take. */
export interface BisectPlan {
  source: string;
  target: string;
  since: string;
  check: string;
  changes: BisectChange[];
  maxChecks: number;
}

export interface FlagBisectsDeps {
  flags: FlagService;
  audit: AuditLog;
  store: BisectStore;
  now: () => Date;
  log: Logger;
}

/** The most changes a window may hold: more is a window to narrow, not to bisect. */
const MAX_CHANGES = 10_000;

/** A request checked against the flags and the audit log, ready to run. */
interface Prepared {
  plan: BisectPlan;
  changes: WindowChange[];
  check: BisectCheck;
  where: PrefixTarget;
}

interface Run {
  probes: Probes;
  abort: AbortController;
  done: Promise<void>;
  cancelledBy?: { actor: string; reason: string };
}

/**
 * `gantry flags bisect`: finds the flag change that brought a regression in. It reads the
 * changes of an environment in a window from the audit log, applies prefixes of them (every
 * item as it was after the k-th change) to the environment itself (or to another one, --on),
 * runs the check after each, and names the culprit in at most ⌈log2 n⌉ + 1 checks (the search
 * is bisect.ts). Whatever happens (a found culprit, a failed check, a cancel, Ctrl-C of the
 * server, a crash), every item is set back as it was; the record of what to restore is
 * written before each change, and a bisection a crash interrupted is restored on start.
 * Another person's change to an item meanwhile stops the bisection and is kept.
 */
export class FlagBisects {
  readonly #d: FlagBisectsDeps;
  readonly #runs = new Map<number, Run>();
  /** The bisection running on each target environment (0 while one is being started). */
  readonly #targets = new Map<string, number>();
  #closed = false;

  constructor(deps: FlagBisectsDeps) {
    this.#d = deps;
  }

  /** The changes a request would search, checked, without changing anything. */
  async plan(request: BisectRequest, principal: Principal, probes: Probes): Promise<BisectPlan> {
    this.#refuseIfBusy(request);
    return (await this.#prepare(request, principal, probes)).plan;
  }

  /** The target environment, unless a bisection runs there (its temporary flags would read as a broken history). */
  #refuseIfBusy(request: BisectRequest): string {
    const target = this.#d.flags.environment(request.on ?? request.environment).name;
    const running = this.#targets.get(target);
    if (running !== undefined)
      throw new GantryError(
        "CONFLICT",
        running === 0
          ? `a bisection is starting on ${target}; wait for it`
          : `bisection #${running} is running on ${target}; wait for it or cancel it (gantry flags bisect cancel ${running})`,
      );
    return target;
  }

  /**
   * Starts a bisection and returns at once with its record; it runs in the server. With no
   * change in the window, there is nothing to run: the plan says so (no record).
   */
  async start(
    request: BisectRequest,
    principal: Principal,
    probes: Probes,
  ): Promise<{ record: Omit<BisectRecord, "internal"> } | { plan: BisectPlan }> {
    if (this.#closed)
      throw new GantryError(
        "UNAVAILABLE",
        "Gantry is shutting down; start the bisection again once it is up",
      );
    // Checked and taken before anything is awaited: two starts cannot both pass, and a
    // running bisection's temporary flags are not mistaken for a broken history.
    const target = this.#refuseIfBusy(request);
    this.#targets.set(target, 0);
    try {
      const { plan, changes, check, where } = await this.#prepare(request, principal, probes);
      if (changes.length === 0) {
        this.#targets.delete(target);
        return { plan };
      }
      return await this.#launch(request, principal, probes, { plan, changes, check, where });
    } catch (error) {
      this.#targets.delete(target);
      throw error;
    }
  }

  async #launch(
    request: BisectRequest,
    principal: Principal,
    probes: Probes,
    prepared: Prepared,
  ): Promise<{ record: Omit<BisectRecord, "internal"> }> {
    const { plan, changes, check, where } = prepared;
    const items = windowItems(changes);
    const original = projections(this.#d.flags.state.set, items, where.target);
    const record = await this.#d.store.insert({
      source: plan.source,
      target: plan.target,
      status: "running",
      actor: principal.name,
      reason: request.reason ?? null,
      since: plan.since,
      check: plan.check,
      settleMs: request.settleMs ?? 2000,
      startedAt: this.#d.now().toISOString(),
      finishedAt: null,
      changes: plan.changes,
      maxChecks: plan.maxChecks,
      steps: [],
      result: null,
      restore: null,
      internal: { role: principal.role, parsedCheck: check, original, applied: original, pending: null },
    });
    await this.#d.audit.record({
      actor: principal.name,
      action: "flag-bisect.started",
      subject: `flag-bisect/${record.id}`,
      reason: request.reason ?? null,
      data: {
        environments: [plan.target],
        source: plan.source,
        target: plan.target,
        since: plan.since,
        check: plan.check,
        changes: plan.changes.length,
        maxChecks: plan.maxChecks,
      },
    });
    const abort = new AbortController();
    const run: Run = { probes, abort, done: Promise.resolve() };
    run.done = this.#run(record, changes, run).catch((err) =>
      this.#d.log.error({ err, bisect: record.id }, "flag bisection failed unexpectedly"),
    );
    this.#runs.set(record.id, run);
    this.#targets.set(where.target, record.id);
    void run.done.finally(() => {
      this.#runs.delete(record.id);
      this.#targets.delete(where.target);
    });
    return { record: publicRecord(record) };
  }

  async get(id: number): Promise<Omit<BisectRecord, "internal">> {
    const record = await this.#d.store.get(id);
    if (!record)
      throw new GantryError("NOT_FOUND", `no bisection #${id}; gantry flags bisect list shows them`);
    return publicRecord(record);
  }

  async list(): Promise<Omit<BisectRecord, "internal">[]> {
    return (await this.#d.store.list()).map(publicRecord);
  }

  /** Stops a running bisection; resolves once everything is restored. */
  async cancel(id: number, principal: Principal, reason?: string): Promise<Omit<BisectRecord, "internal">> {
    const run = this.#runs.get(id);
    if (!run) {
      const record = await this.get(id);
      throw new GantryError("CONFLICT", `bisection #${id} is not running (it is ${record.status})`);
    }
    run.cancelledBy ??= { actor: principal.name, reason: reason ?? "cancelled" };
    run.abort.abort();
    await run.done;
    return this.get(id);
  }

  /** On start: restores every bisection a crash or kill left running. */
  async recover(): Promise<void> {
    for (const record of await this.#d.store.running()) {
      this.#d.log.warn({ bisect: record.id }, "restoring the flags of a bisection that was interrupted");
      record.result = {
        kind: "cancelled",
        by: "gantry",
        reason: "interrupted: Gantry stopped while it ran",
      };
      await this.#finish(record, "interrupted");
    }
  }

  /** Shutting down: cancels running bisections and waits until each is restored. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const run of this.#runs.values()) {
      run.cancelledBy ??= { actor: "gantry", reason: "Gantry is shutting down" };
      run.abort.abort();
    }
    await Promise.all([...this.#runs.values()].map((r) => r.done));
  }

  async #prepare(request: BisectRequest, principal: Principal, probes: Probes): Promise<Prepared> {
    const flags = this.#d.flags;
    const source = flags.environment(request.environment).name;
    const target = flags.environment(request.on ?? request.environment);
    if (target.protected && principal.role !== "admin")
      throw new GantryError(
        "FORBIDDEN",
        `a bisection changes what ${target.name} serves while it runs, and ${target.name} is protected: it needs role admin ("${principal.name}" has ${principal.role}); or try ${source}'s changes in an unprotected environment with --on`,
        { field: "environment" },
      );
    const check = parseCheck(request.check, request);
    const services = check.kind === "sli" ? await probes.services() : [];
    if (check.kind === "sli" && !services.includes(check.service))
      throw new GantryError(
        "BAD_REQUEST",
        `the sli check names service "${check.service}", which Gantry does not know; known: ${services.join(", ") || "none"}`,
        { field: "check" },
      );
    if (request.since.getTime() >= this.#d.now().getTime())
      throw new GantryError("BAD_REQUEST", `since (${request.since.toISOString()}) is not in the past`, {
        field: "since",
      });
    const events = await this.#d.audit.query({
      subjectPrefix: "flag",
      since: request.since,
      limit: MAX_CHANGES + 1,
    });
    if (events.length > MAX_CHANGES)
      throw new GantryError(
        "BAD_REQUEST",
        `more than ${MAX_CHANGES} flag events since ${request.since.toISOString()}; narrow the window with a later --since`,
        { field: "since" },
      );
    const changes = windowChanges(events, source);
    const where: PrefixTarget = {
      source,
      target: target.name,
      environments: flags.environments.map((e) => e.name),
      present: new Set(Object.keys(flags.state.set.flags)),
    };
    this.#checkHistory(changes, source);
    const plan: BisectPlan = {
      source,
      target: target.name,
      since: request.since.toISOString(),
      check: describeCheck(check),
      changes: changes.map(summary),
      maxChecks: maxChecks(changes.length),
    };
    return { plan, changes, check, where };
  }

  /** The audit history must end where the flags are now, or the prefixes would be fiction. */
  #checkHistory(changes: readonly WindowChange[], source: string): void {
    const set = this.#d.flags.state.set;
    for (const item of windowItems(changes)) {
      const id = itemId(item);
      const last = valueAt(changes, id, changes.length);
      const audited = projections(withValue(set, item, last), [item], source)[id];
      const now = projections(set, [item], source)[id];
      if (!sameProjection(audited, now))
        throw new GantryError(
          "CONFLICT",
          `${item.kind} "${item.key}" is not in ${source} as its last audited change left it (changed outside the audit log, or by an unfinished bisection); cannot rebuild its history`,
          { field: "since" },
        );
    }
  }

  async #run(record: BisectRecord, changes: WindowChange[], run: Run): Promise<void> {
    let state: BisectState = startBisect(changes.length);
    let status: BisectRecord["status"] = "failed";
    try {
      for (;;) {
        const step = nextStep(state);
        if (step.kind === "found") {
          record.result = { kind: "found", change: step.change, proof: step.proof };
          status = "found";
          break;
        }
        if (step.kind === "not-a-flag") {
          record.result = { kind: "not-a-flag", reason: step.reason };
          status = "not-a-flag";
          break;
        }
        if (step.kind === "nothing-to-bisect") {
          record.result = { kind: "not-a-flag", reason: "no changes in the window" };
          status = "not-a-flag";
          break;
        }
        const n = record.steps.length + 1;
        await this.#apply(
          record,
          changes,
          step.prefix,
          `check ${n} of at most ${record.maxChecks}: ${prefixWords(step.prefix, changes.length)}`,
        );
        await sleep(record.settleMs, undefined, { signal: run.abort.signal });
        const outcome: CheckOutcome = await runCheck(
          record.internal.parsedCheck,
          run.probes,
          run.abort.signal,
        );
        state = recordCheck(state, step.prefix, outcome.passed);
        record.steps.push({
          check: n,
          prefix: step.prefix,
          passed: outcome.passed,
          detail: outcome.detail,
          at: this.#d.now().toISOString(),
        });
        await this.#d.store.save(record);
        await this.#d.audit.record({
          actor: record.actor,
          action: "flag-bisect.checked",
          subject: `flag-bisect/${record.id}`,
          reason: record.reason,
          data: {
            environments: [record.target],
            check: n,
            prefix: step.prefix,
            applied: prefixWords(step.prefix, changes.length),
            passed: outcome.passed,
            detail: outcome.detail,
          },
        });
      }
    } catch (error) {
      if (run.abort.signal.aborted) {
        const by = run.cancelledBy ?? { actor: "gantry", reason: "cancelled" };
        record.result = { kind: "cancelled", by: by.actor, reason: by.reason };
        status = "cancelled";
      } else {
        record.result = { kind: "failed", message: isGantryError(error) ? error.message : String(error) };
        status = "failed";
        if (!isGantryError(error))
          this.#d.log.error({ err: error, bisect: record.id }, "flag bisection step failed");
      }
    }
    await this.#finish(record, status);
  }

  /** Restores every item, records the outcome, audits it. Never throws for a refused restore: it reports it. */
  async #finish(record: BisectRecord, status: BisectRecord["status"]): Promise<void> {
    record.restore = await this.#restore(record);
    record.status = status;
    record.finishedAt = this.#d.now().toISOString();
    record.internal.pending = null;
    await this.#d.store.save(record);
    await this.#d.audit.record({
      actor: record.actor,
      action: "flag-bisect.finished",
      subject: `flag-bisect/${record.id}`,
      reason: record.reason,
      data: {
        environments: [record.target],
        status,
        result: describeResult(record.result, record.changes),
        checks: record.steps.length,
        restored: record.restore.restored.length,
        left: record.restore.left,
      },
    });
  }

  async #apply(
    record: BisectRecord,
    changes: readonly WindowChange[],
    prefix: number,
    why: string,
  ): Promise<void> {
    const items = windowItems(changes);
    const where = whereOf(record, this.#environments());
    const intended = projections(
      prefixSet(this.#d.flags.state.set, changes, prefix, where),
      items,
      record.target,
    );
    record.internal.pending = intended;
    await this.#d.store.save(record);
    await this.#d.flags.change(this.#by(record, why), (set) => {
      const current = projections(set, items, record.target);
      for (const item of items) {
        const id = itemId(item);
        if (!sameProjection(current[id], record.internal.applied[id]))
          throw new GantryError(
            "CONFLICT",
            `${item.kind} "${item.key}" was changed in ${record.target} by someone else while the bisection ran; stopped, and kept that change`,
          );
      }
      return prefixSet(set, changes, prefix, where);
    });
    record.internal.applied = intended;
    record.internal.pending = null;
    await this.#d.store.save(record);
  }

  async #restore(record: BisectRecord): Promise<RestoreReport> {
    const { original, applied, pending } = record.internal;
    const items = Object.keys(original).map(parseItemId);
    const where = whereOf(record, this.#environments());
    const ours = (id: string, value: ItemProjection) =>
      sameProjection(value, applied[id]) || (pending !== null && sameProjection(value, pending[id]));
    const plan = (current: Record<string, ItemProjection>, only?: string) => {
      const restore: Record<string, ItemProjection> = {};
      const restored: string[] = [];
      const left: { item: string; why: string }[] = [];
      for (const item of items) {
        const id = itemId(item);
        if (only !== undefined && id !== only) continue;
        if (sameProjection(current[id], original[id])) restored.push(id);
        else if (ours(id, current[id])) {
          restore[id] = original[id];
          restored.push(id);
        } else
          left.push({
            item: id,
            why: "changed by someone else while the bisection ran; left as they set it",
          });
      }
      return { restore, restored, left };
    };
    const why = "restoring every flag as it was before the bisection";
    try {
      let report: RestoreReport = { restored: [], left: [] };
      await this.#d.flags.change(this.#by(record, why, true), (set) => {
        const p = plan(projections(set, items, record.target));
        report = { restored: p.restored, left: p.left };
        return withProjections(set, items, p.restore, where);
      });
      return report;
    } catch (error) {
      // Restoring everything at once was refused (something else changed meanwhile): item by item.
      this.#d.log.warn(
        { err: error, bisect: record.id },
        "restoring all at once failed; restoring item by item",
      );
      const restored: string[] = [];
      const left: { item: string; why: string }[] = [];
      for (const item of items) {
        const id = itemId(item);
        try {
          await this.#d.flags.change(this.#by(record, why, true), (set) => {
            const p = plan(projections(set, items, record.target), id);
            restored.push(...p.restored);
            left.push(...p.left);
            return withProjections(set, items, p.restore, where);
          });
        } catch (itemError) {
          left.push({ item: id, why: `could not be restored: ${(itemError as Error).message}` });
        }
      }
      return { restored, left };
    }
  }

  #by(record: BisectRecord, why: string, restoring = false): ChangeBy {
    return {
      actor: record.actor,
      role: record.internal.role,
      reason: `bisect #${record.id}: ${why}${record.reason ? ` (${record.reason})` : ""}`,
      source: "bisect",
      // Setting back what it changed is never refused to the one who could change it.
      ...(restoring && { allowProtected: true }),
    };
  }

  #environments(): string[] {
    return this.#d.flags.environments.map((e) => e.name);
  }
}

function whereOf(record: BisectRecord, environments: readonly string[]): PrefixTarget {
  const present = new Set<string>();
  for (const [id, value] of Object.entries(record.internal.original))
    if (id.startsWith("flag/") && value !== null) present.add(id.slice(5));
  return { source: record.source, target: record.target, environments, present };
}

function parseItemId(id: string): { kind: ItemKind; key: string } {
  const slash = id.indexOf("/");
  return { kind: id.slice(0, slash) as ItemKind, key: id.slice(slash + 1) };
}

/** `set` with one item replaced by a whole value (undefined: absent). */
function withValue(
  set: Parameters<typeof projections>[0],
  item: { kind: ItemKind; key: string },
  value: unknown,
): Parameters<typeof projections>[0] {
  const copy = { ...set, flags: { ...set.flags }, segments: { ...set.segments }, plans: { ...set.plans } };
  const record: Record<string, unknown> | undefined =
    item.kind === "flag"
      ? copy.flags
      : item.kind === "segment"
        ? copy.segments
        : item.kind === "plan"
          ? copy.plans
          : undefined;
  if (record === undefined) copy.planAttribute = value as string;
  else if (value === undefined || value === null) delete record[item.key];
  else record[item.key] = value;
  return copy;
}

function summary(c: WindowChange): BisectChange {
  return {
    seq: c.seq,
    auditId: c.auditId,
    at: c.at,
    actor: c.actor,
    reason: c.reason,
    action: c.action,
    kind: c.kind,
    key: c.key,
    fields: c.fields,
  };
}

/** "changes 1–8 applied, 9–16 reverted" */
export function prefixWords(prefix: number, n: number): string {
  if (prefix === 0) return `all ${n} changes reverted`;
  if (prefix === n) return `all ${n} changes applied`;
  return `changes 1–${prefix} applied, ${prefix + 1}–${n} reverted`;
}

function describeResult(result: BisectResult | null, changes: readonly BisectChange[]): string {
  if (!result) return "none";
  switch (result.kind) {
    case "found": {
      const c = changes[result.change - 1]!;
      return `change ${c.seq} of ${changes.length}: ${c.kind} ${c.key} ${c.action.split(".").at(-1)} by ${c.actor} at ${c.at}`;
    }
    case "not-a-flag":
      return result.reason;
    case "failed":
      return `failed: ${result.message}`;
    case "cancelled":
      return `cancelled by ${result.by}: ${result.reason}`;
  }
}
