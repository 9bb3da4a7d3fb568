import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import {
  CustomChecks,
  defaultJudgeSettings,
  emptySample,
  type Judgement,
  type JudgeSettings,
  judge,
  judgeCeiling,
  type ResourceSample,
  sampleDelta,
  type VersionSample,
} from "../analysis/index.ts";
import type { AuditLog } from "../audit/index.ts";
import type { Role } from "../auth/index.ts";
import { type AnalysisSpec, type StrategySpec, type StrategyType, strategySpec } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import type { ReleasePolicy } from "../policy/index.ts";
import type { ShadowStats } from "../router/shadow.ts";
import type { ServiceCatalog } from "../services/index.ts";
import type { Converger } from "./converger.ts";
import type { InstanceRecords } from "./instance-records.ts";
import { planRollout, planSwitchBack, restoreTarget, type Step, steadyTarget } from "./plan.ts";
import { DeployFailure, JudgedWorse, RolloutAborted } from "./ports.ts";
import type { Rollout, RolloutControl, RolloutRecords } from "./rollout-records.ts";
import { runSmokeChecks } from "./smoke.ts";

export interface OrchestratorDeps {
  catalog: ServiceCatalog;
  rollouts: RolloutRecords;
  instances: InstanceRecords;
  converger: Converger;
  policy: ReleasePolicy;
  audit: AuditLog;
  now: () => Date;
  log: Logger;
  /** What each version of a service has served so far (cumulative): the canary analysis' input. */
  samples?: (service: string) => Promise<Map<string, VersionSample>>;
  /** CPU seconds so far and memory of each running instance of a service, by version. */
  resources?: (service: string) => Promise<Map<string, ResourceSample[]>>;
  /** A Scientist experiment's all-time counts, for experiment checks. */
  experiments?: (name: string) => Promise<{ matched: number; mismatched: number } | undefined>;
  /** What the router's shadow mirrors compared so far, by service (cumulative). */
  shadowStats?: () => Promise<Record<string, ShadowStats>>;
}

export interface DeployRequest {
  service: string;
  version: string;
  /** A full strategy, or a name: the service's own parameters when it uses that strategy, else the defaults. */
  strategy?: StrategySpec | StrategyType | undefined;
  actor: string;
  /** The caller's role: an admin may override a lock or a freeze. */
  role: Role;
  override?: boolean | undefined;
  reason?: string | undefined;
}

export interface RollbackRequest {
  service: string;
  actor: string;
  reason?: string | undefined;
  /** Roll back even when live releases of other services require the current version. */
  force?: boolean | undefined;
  /** Only abort a running rollout; never start a rollback of a finished one. */
  abortOnly?: boolean | undefined;
}

const restoreRetryMs = 2000;

/**
 * Runs rollouts: each is a list of steps persisted before it acts, so a control plane that
 * dies mid-rollout resumes (or restores) it when it starts again.
 */
export class RolloutOrchestrator {
  readonly #d: OrchestratorDeps;
  readonly #running = new Map<string, { rolloutId: number; abort: AbortController; done: Promise<void> }>();
  #stopped = false;

  constructor(deps: OrchestratorDeps) {
    this.#d = deps;
  }

  async deploy(request: DeployRequest): Promise<Rollout> {
    const { catalog, rollouts } = this.#d;
    const service = await catalog.get(request.service);
    await catalog.getRelease(service.name, request.version);
    await this.#refuseIfBusy(service.name);
    const state = await catalog.state(service.name);
    if (state.liveVersion === request.version) {
      throw new GantryError(
        "CONFLICT",
        `${service.name} ${request.version} is already live; deploy another version`,
        {
          field: "version",
        },
      );
    }
    await this.#d.policy.checkDeploy({ ...request, service: service.name });
    const strategy = resolveStrategy(service.spec.strategy, request.strategy);
    const steps = planRollout({
      from: state.liveVersion,
      to: request.version,
      count: service.spec.instances,
      strategy,
    });
    const rollout = await rollouts.create({
      service: service.name,
      kind: "deploy",
      fromVersion: state.liveVersion,
      toVersion: request.version,
      strategy: strategy.type,
      steps,
      actor: request.actor,
      reason: request.reason ?? null,
      ...(service.spec.requireApproval && {
        status: "awaiting_approval",
        approval: { approvedBy: null, at: null },
      }),
    });
    await this.#audit(rollout, "rollout.started", {
      strategy: strategy.type,
      steps: steps.map((s) => s.description),
    });
    if (rollout.status === "awaiting_approval") {
      await this.#audit(
        rollout,
        "rollout.awaiting_approval",
        {},
        "gantry",
        "the service requires a second person's approval",
      );
      return rollout;
    }
    this.#launch(rollout);
    return rollout;
  }

  /** A second person approves a deploy that waits for it; then it starts. */
  async approve(request: {
    rolloutId: number;
    actor: string;
    reason?: string | undefined;
  }): Promise<Rollout> {
    const rollout = await this.#d.rollouts.find(request.rolloutId);
    if (!rollout) throw new GantryError("NOT_FOUND", `no rollout ${request.rolloutId}`, { field: "rollout" });
    if (rollout.status !== "awaiting_approval") {
      throw new GantryError("CONFLICT", `rollout ${rollout.id} is ${rollout.status}, not awaiting approval`, {
        field: "rollout",
      });
    }
    if (rollout.actor === request.actor) {
      throw new GantryError(
        "FORBIDDEN",
        `rollout ${rollout.id} was started by ${rollout.actor}; a second person must approve it`,
      );
    }
    await this.#d.rollouts.update(rollout.id, {
      status: "running",
      approval: { approvedBy: request.actor, at: this.#d.now().toISOString() },
    });
    await this.#audit(rollout, "rollout.approved", {}, request.actor, request.reason);
    const approved = await this.#d.rollouts.get(rollout.id);
    this.#launch(approved);
    return approved;
  }

  /**
   * Aborts a running rollout (traffic returns to the previous version), or else returns
   * to the version that was live before the current one: by a switch when that colour is
   * still running idle, otherwise by a deploy with the service's strategy.
   */
  async rollback(request: RollbackRequest): Promise<Rollout> {
    const { catalog, rollouts } = this.#d;
    const service = await catalog.get(request.service);
    const [active] = await rollouts.active(service.name);
    if (active?.status === "awaiting_approval") return this.#cancel(active, request.actor, request.reason);
    if (active) return this.#abort(active, request.actor, request.reason);
    if (request.abortOnly) {
      throw new GantryError("CONFLICT", `${service.name} has no rollout running; nothing to abort`, {
        field: "service",
      });
    }
    const state = await catalog.state(service.name);
    const live = state.liveVersion;
    const made = live ? await rollouts.lastSucceededTo(service.name, live) : undefined;
    const previous = made?.fromVersion;
    if (!live || !previous) {
      throw new GantryError(
        "NOTHING_TO_ROLL_BACK",
        `${service.name} has no previous version to roll back to`,
        {
          field: "service",
        },
      );
    }
    await this.#d.policy.checkRollback({
      service: service.name,
      to: previous,
      force: request.force,
      actor: request.actor,
      reason: request.reason,
    });
    const count = service.spec.instances;
    const idleReady =
      state.idle?.version === previous &&
      Date.parse(state.idle.until) > this.#d.now().getTime() &&
      (await this.#d.instances.alive(service.name)).filter(
        (i) => i.version === previous && i.state === "ready",
      ).length >= count;
    const steps: Step[] = idleReady
      ? planSwitchBack(live, previous, count)
      : planRollout({ from: live, to: previous, count, strategy: service.spec.strategy });
    const rollout = await rollouts.create({
      service: service.name,
      kind: "rollback",
      fromVersion: live,
      toVersion: previous,
      strategy: idleReady ? "switch" : service.spec.strategy.type,
      steps,
      actor: request.actor,
      reason: request.reason ?? null,
    });
    await this.#audit(rollout, "rollback.started", { from: live, to: previous, bySwitch: idleReady });
    this.#launch(rollout);
    return rollout;
  }

  /**
   * Ends the pause or analysis a running canary is in, by hand; the next step follows. With
   * `full`, every analysis and pause left is skipped too: the rollout goes straight on to
   * all traffic (from any step).
   */
  async promote(request: {
    service: string;
    actor: string;
    reason?: string | undefined;
    full?: boolean | undefined;
  }): Promise<Rollout> {
    const service = await this.#d.catalog.get(request.service);
    const [active] = await this.#d.rollouts.active(service.name);
    const step = active?.status === "running" ? active.steps[active.step] : undefined;
    if (request.full && active?.status === "running") {
      await this.#d.rollouts.update(active.id, {
        promotedStep: active.step,
        control: { ...active.control, full: true },
      });
      await this.#audit(
        active,
        "rollout.promoted",
        { step: active.step, description: step?.description ?? null, full: true },
        request.actor,
        request.reason,
      );
      return this.#d.rollouts.get(active.id);
    }
    if (!active || !step || (step.kind !== "pause" && step.kind !== "analysis")) {
      throw new GantryError(
        "CONFLICT",
        active
          ? `rollout ${active.id} of ${service.name} is at "${step?.description ?? active.status}", not at a pause or an analysis; nothing to promote`
          : `${service.name} has no rollout running; nothing to promote`,
        { field: "service" },
      );
    }
    await this.#d.rollouts.update(active.id, { promotedStep: active.step });
    await this.#audit(
      active,
      "rollout.promoted",
      { step: active.step, description: step.description },
      request.actor,
      request.reason,
    );
    return this.#d.rollouts.get(active.id);
  }

  /**
   * Holds a running rollout before its next step (the step under way finishes; an analysis
   * under way still aborts on a failing verdict) until `resume`. Survives a restart.
   */
  async pauseRollout(request: {
    service: string;
    actor: string;
    reason?: string | undefined;
  }): Promise<Rollout> {
    const active = await this.#runningRollout(request.service, "pause");
    if (active.control.paused) {
      throw new GantryError(
        "CONFLICT",
        `rollout ${active.id} of ${active.service} is already paused by ${active.control.paused.by} since ${active.control.paused.at}; \`gantry resume ${active.service}\` continues it`,
        { field: "service" },
      );
    }
    const paused = { by: request.actor, at: this.#d.now().toISOString(), reason: request.reason ?? null };
    await this.#d.rollouts.update(active.id, { control: { ...active.control, paused } });
    await this.#audit(active, "rollout.paused", { step: active.step }, request.actor, request.reason);
    return this.#d.rollouts.get(active.id);
  }

  /** Lets a paused rollout go on with its next step. */
  async resumeRollout(request: {
    service: string;
    actor: string;
    reason?: string | undefined;
  }): Promise<Rollout> {
    const active = await this.#runningRollout(request.service, "resume");
    if (!active.control.paused) {
      throw new GantryError(
        "CONFLICT",
        `rollout ${active.id} of ${active.service} is not paused; nothing to resume`,
        { field: "service" },
      );
    }
    const { paused: _, ...rest } = active.control;
    await this.#d.rollouts.update(active.id, { control: rest });
    await this.#audit(active, "rollout.unpaused", { step: active.step }, request.actor, request.reason);
    return this.#d.rollouts.get(active.id);
  }

  async #runningRollout(name: string, verb: string): Promise<Rollout> {
    const service = await this.#d.catalog.get(name);
    const [active] = await this.#d.rollouts.active(service.name);
    if (active?.status !== "running") {
      throw new GantryError(
        "CONFLICT",
        active
          ? `rollout ${active.id} of ${service.name} is ${active.status.replace("_", " ")}; nothing to ${verb}`
          : `${service.name} has no rollout running; nothing to ${verb}`,
        { field: "service" },
      );
    }
    return active;
  }

  /** Picks up rollouts that were running when the control plane stopped. */
  async resume(): Promise<void> {
    for (const rollout of await this.#d.rollouts.active()) {
      this.#d.log.info(
        { rollout: rollout.id, status: rollout.status, step: rollout.step },
        "resuming rollout",
      );
      await this.#audit(rollout, "rollout.resumed", { step: rollout.step, status: rollout.status }, "gantry");
      this.#launch(rollout);
    }
  }

  /** Brings services without a running rollout to their steady state (after a restart, or when idle time ends). */
  async reconcileSteadyState(): Promise<void> {
    for (const service of await this.#d.catalog.list()) {
      if (this.#running.has(service.name)) continue;
      const state = await this.#d.catalog.state(service.name);
      if (!state.liveVersion) continue;
      const idleOver = state.idle !== null && Date.parse(state.idle.until) <= this.#d.now().getTime();
      if (idleOver) await this.#d.catalog.saveState({ ...state, idle: null });
      try {
        await this.#d.converger.converge(
          service.name,
          steadyTarget(state.liveVersion, service.spec.instances, idleOver ? null : state.idle),
        );
        if (idleOver) {
          await this.#d.audit.record({
            actor: "gantry",
            action: "idle.stopped",
            service: service.name,
            subject: state.idle!.version,
            reason: "the idle colour's time ran out",
          });
        }
      } catch (error) {
        this.#d.log.error(
          { err: error, service: service.name },
          "could not bring the service to its steady state",
        );
      }
    }
  }

  isRunning(service: string): boolean {
    return this.#running.has(service);
  }

  /** Stops driving rollouts (they stay recorded as running and resume on the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const run of this.#running.values()) run.abort.abort("the control plane is stopping");
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }

  async #refuseIfBusy(service: string): Promise<void> {
    const [active] = await this.#d.rollouts.active(service);
    if (active) {
      throw new GantryError(
        "ROLLOUT_IN_PROGRESS",
        `${service} is already rolling out ${active.toVersion} (rollout ${active.id}); wait for it, or run \`gantry rollback ${service}\` to abort it`,
        { field: "service" },
      );
    }
  }

  /** A deploy still waiting for approval never ran: cancelling it changes nothing else. */
  async #cancel(rollout: Rollout, actor: string, reason: string | undefined): Promise<Rollout> {
    await this.#d.rollouts.update(rollout.id, { status: "rolled_back", abortRequested: true });
    await this.#audit(rollout, "rollout.cancelled", {}, actor, reason);
    return this.#d.rollouts.get(rollout.id);
  }

  async #abort(rollout: Rollout, actor: string, reason: string | undefined): Promise<Rollout> {
    await this.#d.rollouts.update(rollout.id, { abortRequested: true });
    await this.#audit(rollout, "rollout.abort_requested", {}, actor, reason);
    this.#running
      .get(rollout.service)
      ?.abort.abort(`rollback requested by ${actor}${reason ? `: ${reason}` : ""}`);
    return this.#d.rollouts.get(rollout.id);
  }

  #launch(rollout: Rollout): void {
    const abort = new AbortController();
    if (rollout.abortRequested) abort.abort("rollback requested");
    const done = this.#drive(rollout.id, abort.signal)
      .catch((error) => this.#d.log.error({ err: error, rollout: rollout.id }, "rollout driver crashed"))
      .finally(() => this.#running.delete(rollout.service));
    this.#running.set(rollout.service, { rolloutId: rollout.id, abort, done });
  }

  async #drive(id: number, signal: AbortSignal): Promise<void> {
    let rollout = await this.#d.rollouts.get(id);
    if (rollout.status === "running") {
      try {
        await this.#runSteps(rollout, signal);
        await this.#succeed(await this.#d.rollouts.get(id));
        return;
      } catch (error) {
        if (this.#stopped) return;
        await this.#startRestoring(rollout, error);
      }
    }
    rollout = await this.#d.rollouts.get(id);
    await this.#restore(rollout);
  }

  async #runSteps(rollout: Rollout, signal: AbortSignal): Promise<void> {
    for (let index = rollout.step; index < rollout.steps.length; index++) {
      if (signal.aborted) throw new RolloutAborted(String(signal.reason));
      const step = rollout.steps[index]!;
      const control = await this.#holdWhilePaused(rollout.id, signal);
      if (control.full && (step.kind === "analysis" || step.kind === "pause")) continue;
      await this.#d.rollouts.update(rollout.id, { step: index });
      await this.#audit(rollout, "rollout.step", { step: index, description: step.description }, "gantry");
      await this.#execute(rollout, index, step, signal);
    }
  }

  async #execute(rollout: Rollout, index: number, step: Step, signal: AbortSignal): Promise<void> {
    switch (step.kind) {
      case "converge":
        return this.#d.converger.converge(rollout.service, step.target, signal);
      case "smoke": {
        const instances = (await this.#d.instances.alive(rollout.service)).filter(
          (i) => i.version === step.version && i.state === "ready",
        );
        const failures = await runSmokeChecks(instances, step.checks);
        if (failures.length > 0) throw new JudgedWorse(`smoke checks failed: ${failures.join("; ")}`);
        return;
      }
      case "keep-idle": {
        const state = await this.#d.catalog.state(rollout.service);
        const until = new Date(this.#d.now().getTime() + step.forMs).toISOString();
        await this.#d.catalog.saveState({ ...state, idle: { version: step.version, until } });
        return;
      }
      case "analysis":
        return this.#analyse(rollout, index, step, signal);
      case "pause":
        return this.#pause(rollout, index, step.forMs, signal);
      case "shadow":
        return this.#compareShadow(rollout, index, step, signal);
    }
  }

  /**
   * Judges the canary against the baseline on what each served since the step began, every
   * interval: a failing verdict aborts at once (the rollout then returns all traffic to the
   * baseline); at the end, a pass goes on and an inconclusive verdict does what the settings
   * say. Every verdict is stored on the rollout with its numbers.
   */
  async #analyse(
    rollout: Rollout,
    index: number,
    step: Extract<Step, { kind: "analysis" }>,
    signal: AbortSignal,
  ): Promise<void> {
    const read = this.#d.samples;
    if (!read) throw new DeployFailure("analysis needs the router's metrics, and none are available");
    const startedAt = this.#d.now();
    const start = await read(rollout.service);
    const settings = judgeSettings(step.settings);
    const ends = startedAt.getTime() + step.forMs;
    const custom = new CustomChecks(
      step.settings.checks,
      {
        service: rollout.service,
        rollout: rollout.id,
        baseline: step.baseline,
        candidate: step.candidate,
        candidateUrls: async () =>
          (await this.#d.instances.alive(rollout.service))
            .filter((i) => i.version === step.candidate && i.state === "ready")
            .map((i) => `http://127.0.0.1:${i.port}`),
        ...(this.#d.resources && { resources: () => this.#d.resources!(rollout.service) }),
        ...(this.#d.experiments && { experiment: this.#d.experiments }),
      },
      this.#d.now,
    );
    custom.start();
    try {
      await this.#judgeUntil(rollout, index, step, signal, {
        read,
        start,
        settings,
        ends,
        startedAt,
        custom,
      });
    } finally {
      custom.stop();
    }
  }

  async #judgeUntil(
    rollout: Rollout,
    index: number,
    step: Extract<Step, { kind: "analysis" }>,
    signal: AbortSignal,
    o: {
      read: NonNullable<OrchestratorDeps["samples"]>;
      start: Map<string, VersionSample>;
      settings: JudgeSettings;
      ends: number;
      startedAt: Date;
      custom: CustomChecks;
    },
  ): Promise<void> {
    const { read, start, settings, ends, startedAt, custom } = o;
    let judgement: Judgement | undefined;
    for (;;) {
      await pause(Math.min(step.settings.interval, Math.max(0, ends - this.#d.now().getTime())), signal);
      const now = await read(rollout.service);
      const side = (version: string) => {
        const later = now.get(version);
        if (!later) return emptySample([...(now.values().next().value?.latency.bounds ?? [])]);
        return sampleDelta(later, start.get(version));
      };
      judgement = judge(side(step.baseline), side(step.candidate), settings);
      const over = this.#d.now().getTime() >= ends;
      if (over) await custom.settle();
      const breach = custom.breach();
      await this.#d.rollouts.update(rollout.id, {
        analysis: {
          step: index,
          verdict: breach ? "fail" : judgement.verdict,
          checks: judgement.checks,
          custom: custom.results(),
          startedAt: startedAt.toISOString(),
          at: this.#d.now().toISOString(),
        },
      });
      if (judgement.verdict === "fail") {
        const failed = judgement.checks.filter((c) => c.verdict === "fail").map((c) => c.summary);
        throw new JudgedWorse(`analysis failed: ${failed.join("; ")}`);
      }
      if (breach) throw new JudgedWorse(`analysis failed: ${breach}`);
      if ((await this.#d.rollouts.get(rollout.id)).promotedStep === index) return;
      if (over) break;
    }
    await this.#audit(
      rollout,
      "rollout.analysis",
      { step: index, verdict: judgement.verdict, checks: judgement.checks.map((c) => c.summary) },
      "gantry",
    );
    if (judgement.verdict === "inconclusive" && step.settings.onInconclusive === "fail") {
      throw new DeployFailure(
        `analysis inconclusive: fewer than ${settings.minSamples} requests on a side (${judgement.checks[0]!.summary}); send more traffic, lengthen the analysis, or set analysis.onInconclusive: continue`,
      );
    }
  }

  /**
   * Reads the router's shadow counts every second: fails as soon as the mismatch rate is
   * shown (sequentially) to be above its ceiling, or the candidate is slower on average by
   * more than allowed; at the end, needs `minCompared` answers compared.
   */
  async #compareShadow(
    rollout: Rollout,
    index: number,
    step: Extract<Step, { kind: "shadow" }>,
    signal: AbortSignal,
  ): Promise<void> {
    const read = this.#d.shadowStats;
    if (!read) throw new DeployFailure("shadow traffic needs the router's counts, and none are available");
    const current = async () => {
      const stats = (await read())[rollout.service];
      return stats?.version === step.candidate ? stats : undefined;
    };
    const start = await current();
    const startedAt = this.#d.now();
    const ends = startedAt.getTime() + step.forMs;
    for (;;) {
      await pause(Math.min(1000, Math.max(0, ends - this.#d.now().getTime())), signal);
      const now = await current();
      const d = (
        key: "mirrored" | "matched" | "mismatched" | "errors" | "skipped" | "primaryMs" | "shadowMs",
      ) => (now?.[key] ?? 0) - (start?.[key] ?? 0);
      const differing = d("mismatched") + d("errors");
      const compared = d("matched") + differing;
      const ceiling = judgeCeiling(differing, compared, step.maxMismatchRate, {
        alpha: 0.01,
        minSamples: step.minCompared,
      });
      const latencyMs = compared > 0 ? (d("shadowMs") - d("primaryMs")) / compared : 0;
      const slower =
        step.maxLatencyIncreaseMs !== null &&
        compared >= step.minCompared &&
        latencyMs > step.maxLatencyIncreaseMs;
      const rate = compared > 0 ? differing / compared : 0;
      const example = now?.recent.at(-1);
      const summary = `${(rate * 100).toFixed(2)}% of ${compared} answers differ (at most ${(step.maxMismatchRate * 100).toFixed(2)}% allowed; ${d("errors")} without an answer, ${d("skipped")} not copied); candidate ${latencyMs >= 0 ? "+" : ""}${latencyMs.toFixed(1)} ms on average${example ? `; latest: ${example.method} ${example.path}: ${example.reason}` : ""}`;
      const verdict = ceiling.verdict === "fail" || slower ? "fail" : ceiling.verdict;
      await this.#d.rollouts.update(rollout.id, {
        analysis: {
          step: index,
          verdict,
          checks: [],
          shadow: {
            compared,
            matched: d("matched"),
            mismatched: d("mismatched"),
            errors: d("errors"),
            skipped: d("skipped"),
            mismatchRate: rate,
            latencyIncreaseMs: latencyMs,
            pValue: ceiling.comparison.pValue,
            summary,
            recent: now?.recent.slice(-5) ?? [],
          },
          startedAt: startedAt.toISOString(),
          at: this.#d.now().toISOString(),
        },
      });
      if (ceiling.verdict === "fail") throw new JudgedWorse(`shadow comparison failed: ${summary}`);
      if (slower)
        throw new JudgedWorse(
          `shadow comparison failed: the candidate is ${latencyMs.toFixed(1)} ms slower on average (at most ${step.maxLatencyIncreaseMs} ms allowed)`,
        );
      if ((await this.#d.rollouts.get(rollout.id)).promotedStep === index) return;
      if (this.#d.now().getTime() < ends) continue;
      if (compared < step.minCompared)
        throw new DeployFailure(
          `shadow comparison inconclusive: ${compared} answers compared, ${step.minCompared} needed; send more traffic, lengthen "for", or lower minCompared`,
        );
      await this.#audit(rollout, "rollout.analysis", { step: index, verdict, shadow: summary }, "gantry");
      return;
    }
  }

  /** Returns once the rollout is not paused (at once, mostly), with its control as it is then. */
  async #holdWhilePaused(id: number, signal: AbortSignal): Promise<RolloutControl> {
    for (;;) {
      const { control } = await this.#d.rollouts.get(id);
      if (!control.paused) return control;
      await pause(250, signal);
    }
  }

  /** Waits out a pause, or until `gantry promote` when it has no end. */
  async #pause(rollout: Rollout, index: number, forMs: number | null, signal: AbortSignal): Promise<void> {
    const ends = forMs === null ? Number.POSITIVE_INFINITY : this.#d.now().getTime() + forMs;
    while (this.#d.now().getTime() < ends) {
      if ((await this.#d.rollouts.get(rollout.id)).promotedStep === index) return;
      await pause(Math.min(250, ends - this.#d.now().getTime()), signal);
    }
  }

  async #succeed(rollout: Rollout): Promise<void> {
    const state = await this.#d.catalog.state(rollout.service);
    const keptIdle = rollout.steps.some((s) => s.kind === "keep-idle") ? state.idle : null;
    // A plan may end with the previous version live (a dark launch only): its last traffic says.
    const last = rollout.steps.findLast((s) => s.kind === "converge");
    const final =
      last?.kind === "converge" && Array.isArray(last.target.traffic) && last.target.traffic.length === 1
        ? last.target.traffic[0]!.version
        : rollout.toVersion;
    await this.#d.catalog.saveState({
      ...state,
      liveVersion: final,
      traffic: [{ version: final, weight: 100 }],
      mode: "normal",
      idle: keptIdle,
    });
    await this.#d.rollouts.update(rollout.id, { status: "succeeded", step: rollout.steps.length });
    await this.#audit(
      rollout,
      rollout.kind === "rollback" ? "rollback.succeeded" : "rollout.succeeded",
      {},
      "gantry",
    );
    this.#d.log.info(
      { rollout: rollout.id, service: rollout.service, version: rollout.toVersion },
      "rollout succeeded",
    );
  }

  async #startRestoring(rollout: Rollout, error: unknown): Promise<void> {
    const failure =
      error instanceof DeployFailure
        ? { reason: error.message, logs: error.logs, ...(error instanceof JudgedWorse && { judged: true }) }
        : { reason: error instanceof Error ? error.message : String(error) };
    await this.#d.rollouts.update(rollout.id, { status: "rolling_back", failure });
    await this.#audit(rollout, "rollout.failed", { failure }, "gantry", failure.reason);
    this.#d.log.warn(
      { rollout: rollout.id, reason: failure.reason },
      "rollout failed; restoring the previous version",
    );
  }

  /** Returns traffic to the previous version; retried until it holds, since giving up would leave a half state. */
  async #restore(rollout: Rollout): Promise<void> {
    const service = await this.#d.catalog.get(rollout.service);
    const target = restoreTarget(rollout.fromVersion, service.spec.instances);
    let keep = await this.#keepFailedCandidate(rollout, service.spec.keepFailed);
    while (!this.#stopped) {
      try {
        await this.#d.converger.converge(
          rollout.service,
          keep ? { ...target, instances: { ...target.instances, [rollout.toVersion]: keep.count } } : target,
        );
        break;
      } catch (error) {
        // Keeping the candidate must never hold up the restore: the next try stops it.
        keep = undefined;
        this.#d.log.error(
          { err: error, rollout: rollout.id },
          "restoring the previous version failed; retrying",
        );
        await new Promise((r) => setTimeout(r, restoreRetryMs));
      }
    }
    if (this.#stopped) return;
    const state = await this.#d.catalog.state(rollout.service);
    const idle = keep ? { version: rollout.toVersion, until: keep.until } : null;
    await this.#d.catalog.saveState({ ...state, liveVersion: rollout.fromVersion, idle });
    if (keep)
      await this.#audit(
        rollout,
        "rollout.candidate_kept",
        { version: rollout.toVersion, until: keep.until },
        "gantry",
      );
    const fresh = await this.#d.rollouts.get(rollout.id);
    const status = fresh.abortRequested ? "rolled_back" : "failed";
    await this.#d.rollouts.update(rollout.id, { status });
    await this.#audit(fresh, "rollout.rolled_back", { status, to: rollout.fromVersion }, "gantry");
  }

  /**
   * Whether a failed candidate stays up for debugging (`keepFailed`): only when it was judged
   * worse, not when it could not start or was aborted by hand, and only its ready instances.
   */
  async #keepFailedCandidate(
    rollout: Rollout,
    keepMs: number,
  ): Promise<{ count: number; until: string } | undefined> {
    if (keepMs <= 0 || rollout.kind !== "deploy" || rollout.abortRequested || rollout.fromVersion === null)
      return;
    if (!(await this.#d.rollouts.get(rollout.id)).failure?.judged) return;
    const ready = (await this.#d.instances.alive(rollout.service)).filter(
      (i) => i.version === rollout.toVersion && i.state === "ready",
    ).length;
    if (ready === 0) return;
    return { count: ready, until: new Date(this.#d.now().getTime() + keepMs).toISOString() };
  }

  async #audit(
    rollout: Rollout,
    action: string,
    data: Record<string, unknown>,
    actor = rollout.actor,
    reason = rollout.reason,
  ) {
    await this.#d.audit.record({
      actor,
      action,
      service: rollout.service,
      subject: `rollout/${rollout.id}`,
      reason,
      data: {
        rollout: rollout.id,
        kind: rollout.kind,
        from: rollout.fromVersion,
        to: rollout.toVersion,
        ...data,
      },
    });
  }
}

/** Sleeps, unless the rollout is aborted meanwhile. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new RolloutAborted(String(signal.reason));
  }
}

function judgeSettings(spec: AnalysisSpec): JudgeSettings {
  return {
    alpha: spec.alpha,
    minSamples: spec.minSamples,
    errorRate: {
      minEffect: spec.errorRate.minEffect,
      tau: defaultJudgeSettings.errorRate.tau,
      ...(spec.errorRate.max !== undefined && { max: spec.errorRate.max }),
    },
    latency: {
      minEffect: spec.latency.minEffect,
      tau: defaultJudgeSettings.latency.tau,
      ...(spec.latency.maxP99 !== undefined && { maxP99Ms: spec.latency.maxP99 }),
    },
  };
}

function resolveStrategy(
  own: StrategySpec,
  requested: StrategySpec | StrategyType | undefined,
): StrategySpec {
  if (requested === undefined) return own;
  if (typeof requested !== "string") return requested;
  if (own.type === requested) return own;
  const parsed = strategySpec.safeParse({ type: requested });
  if (parsed.success) return parsed.data;
  // A strategy that has no defaults for what it needs (phased: its phases) comes from gantry.yaml.
  const missing = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
  throw new GantryError(
    "BAD_REQUEST",
    `strategy "${requested}" needs settings it has no default for (${missing}); declare it for the service in gantry.yaml (strategy: {type: ${requested}, ${missing}: ...}, see docs/strategies.md) or send the whole strategy in the API's "strategy" field`,
    { field: "strategy" },
  );
}
