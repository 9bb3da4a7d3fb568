import {
  ErrorCode,
  type EvaluationContext,
  type EventContext,
  type FlagValue,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import { changedFlags } from "./changed-flags.ts";
import { EvaluationCounts } from "./evaluation-counts.ts";
import { EvaluationReporter } from "./evaluation-reporter.ts";
import { FlagSync, type SyncChannel } from "./flag-sync.ts";
import { HttpChannel } from "./http-channel.ts";
import { type GantryProviderOptions, type ProviderSettings, settingsOf } from "./provider-options.ts";
import { type FlagType, resolveFlag, typeOf, unresolved } from "./resolve-flag.ts";
import { parseRuleSetText, type RuleSet } from "./rule-set.ts";
import { readSnapshot, type SnapshotRead, SnapshotWriter } from "./snapshot-file.ts";

const NO_CONTEXT: EvaluationContext = Object.freeze({});

/** What the provider is doing, for dashboards and tests; see `GantryProvider.stats`. */
export interface GantryProviderStats {
  environment: string | null;
  revision: number | null;
  /** Where the flags being served came from. */
  source: "server" | "snapshot" | null;
  /** `stream` (following changes live), `polling` (no stream, polls answer) or `offline`. */
  connection: "stream" | "polling" | "offline";
  lastContactAt: string | null;
  evaluationsPending: number;
  evaluationsReported: number;
  evaluationsDropped: number;
  reportsFailed: number;
}

type Health = "starting" | "ready" | "stale" | "error";

/** Settles `initialize`: the first flag set from Gantry, or why there is none. */
interface FirstRuleSet {
  done(failure?: string): void;
}

/**
 * Gantry's OpenFeature server provider. It evaluates flags in process with the same
 * evaluator as the server (`packages/sdk/src/flags`), on a flag set it keeps in step over
 * server-sent events (polling when there is no stream), optionally saved to a snapshot file
 * to start from when Gantry is down. It never throws into the application: problems become
 * resolution errors (the caller's default value is served) and provider events.
 *
 * Events: PROVIDER_READY (initialized, or back in contact after STALE/ERROR),
 * PROVIDER_CONFIGURATION_CHANGED with `flagsChanged` and `metadata.revision`,
 * PROVIDER_STALE (out of contact for `staleAfterMs`), PROVIDER_ERROR (a corrupt snapshot,
 * a flag set this SDK cannot use, the token refused) — with the last good flags still served.
 */
export class GantryProvider implements Provider {
  readonly metadata = { name: "gantry" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();

  readonly #o: ProviderSettings;
  readonly #channel: HttpChannel;
  readonly #sync: FlagSync;
  readonly #counts: EvaluationCounts | undefined;
  #reporter: EvaluationReporter | undefined;
  readonly #snapshot: SnapshotWriter | undefined;
  #ruleSet: RuleSet | undefined;
  #source: "server" | "snapshot" | undefined;
  /** Why the newest flag set from Gantry was refused, while it is the newest. */
  #invalid: string | undefined;
  #refused: string | undefined;
  #health: Health = "starting";
  #inContact = false;
  #lastContactAt: number | undefined;
  #staleTimer: NodeJS.Timeout | undefined;
  #first: FirstRuleSet | undefined;
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(options: GantryProviderOptions) {
    this.#o = settingsOf(options);
    this.#channel = new HttpChannel(this.#o.baseUrl, this.#o.token);
    this.#counts = this.#o.reportEvaluations ? new EvaluationCounts(this.#o.maxReportEntries) : undefined;
    this.#snapshot = this.#o.snapshotFile
      ? new SnapshotWriter(this.#o.snapshotFile, (message) => this.#o.logger.error(message))
      : undefined;
    this.#sync = new FlagSync({
      channel: this.#channel,
      listener: {
        received: (text, via) => this.#received(text, via),
        contact: () => this.#contact(),
        lost: (reason, via) => this.#lost(reason, via),
        refused: (status, body) => this.#refusedToken(status, body),
      },
      revision: () => (this.#source === "server" ? this.#ruleSet?.revision : undefined),
      stream: this.#o.stream,
      pollIntervalMs: this.#o.pollIntervalMs,
      reconnectDelayMs: this.#o.reconnectDelayMs,
      maxReconnectDelayMs: this.#o.maxReconnectDelayMs,
      requestTimeoutMs: this.#o.requestTimeoutMs,
      streamIdleTimeoutMs: this.#o.streamIdleTimeoutMs,
    });
  }

  /**
   * Connects to Gantry and resolves with its flag set. When Gantry does not answer within
   * `initTimeoutMs` (or refuses), it resolves with the snapshot's flags if there is a good
   * snapshot, else rejects (OpenFeature then reports PROVIDER_ERROR); either way it keeps
   * trying and emits PROVIDER_READY once it has flags.
   */
  async initialize(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const snapshot: SnapshotRead = this.#o.snapshotFile
      ? await readSnapshot(this.#o.snapshotFile)
      : { kind: "missing" };
    if (snapshot.kind === "unusable") this.#error(`${snapshot.message}; it is ignored`);
    if (this.#closing) throw new Error("the provider was closed while starting");

    const failure = await this.#firstRuleSet();
    if (this.#closing) throw new Error("the provider was closed while starting");
    if (failure === undefined) {
      this.#health = "ready";
      return;
    }
    if (snapshot.kind !== "ok") {
      this.#health = "error";
      throw new Error(
        `no flags yet: ${failure}${this.#o.snapshotFile ? "" : " (set snapshotFile to start from the last known flags)"}; still trying`,
      );
    }
    this.#ruleSet = snapshot.ruleSet;
    this.#source = "snapshot";
    this.#health = "ready";
    this.#o.logger.warn(
      `starting from snapshot revision ${snapshot.ruleSet.revision} (saved ${snapshot.savedAt}): ${failure}`,
    );
    if (!this.#inContact) this.#armStaleTimer(failure);
    // OpenFeature marks the provider READY when this resolves; a standing problem follows it.
    const problem = this.#refused ?? this.#invalid;
    if (problem !== undefined) setImmediate(() => this.#setHealth("error", problem));
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, "boolean"));
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, "string"));
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, "number"));
  }

  /** The value is frozen and shared between evaluations: copy it to change it. */
  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, "object"));
  }

  /** Stops streaming and polling, writes the last snapshot, sends the last counts; leaves nothing open. */
  onClose(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  stats(): GantryProviderStats {
    return {
      environment: this.#ruleSet?.environment ?? null,
      revision: this.#ruleSet?.revision ?? null,
      source: this.#source ?? null,
      connection: this.#sync.streaming ? "stream" : this.#inContact ? "polling" : "offline",
      lastContactAt: this.#lastContactAt === undefined ? null : new Date(this.#lastContactAt).toISOString(),
      evaluationsPending: this.#counts?.pending ?? 0,
      evaluationsReported: this.#reporter?.reported ?? 0,
      evaluationsDropped: this.#counts?.dropped ?? 0,
      reportsFailed: this.#reporter?.failedRequests ?? 0,
    };
  }

  /**
   * Synchronous evaluation, for hot paths: the same flags, reasons, error codes and counting
   * as through an OpenFeature client, without the client's hooks, context merging and
   * promises (which cost the OpenFeature client ~20 µs an evaluation; this stays well under
   * 1 µs, see docs/benchmarks.md). The flag type expected is that of `defaultValue`. Never
   * throws; on error the details carry the default, `reason: "ERROR"` and the error code.
   */
  getDetails(flagKey: string, defaultValue: boolean, context?: EvaluationContext): ResolutionDetails<boolean>;
  getDetails(flagKey: string, defaultValue: string, context?: EvaluationContext): ResolutionDetails<string>;
  getDetails(flagKey: string, defaultValue: number, context?: EvaluationContext): ResolutionDetails<number>;
  getDetails<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context?: EvaluationContext,
  ): ResolutionDetails<T>;
  getDetails(flagKey: string, defaultValue: FlagValue, context: EvaluationContext = NO_CONTEXT) {
    return this.#resolve(flagKey, defaultValue, context, typeOf(defaultValue));
  }

  /** `getDetails(...).value`: the flag's value, or `defaultValue` when it cannot be evaluated. */
  getValue(flagKey: string, defaultValue: boolean, context?: EvaluationContext): boolean;
  getValue(flagKey: string, defaultValue: string, context?: EvaluationContext): string;
  getValue(flagKey: string, defaultValue: number, context?: EvaluationContext): number;
  getValue<T extends JsonValue>(flagKey: string, defaultValue: T, context?: EvaluationContext): T;
  getValue(flagKey: string, defaultValue: FlagValue, context: EvaluationContext = NO_CONTEXT) {
    return this.#resolve(flagKey, defaultValue, context, typeOf(defaultValue)).value;
  }

  /** Sends the evaluation counts now (they are also sent every `reportIntervalMs` and on close). */
  async flushEvaluations(): Promise<void> {
    await this.#reporter?.flush();
  }

  #resolve<T>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    type: FlagType,
  ): ResolutionDetails<T> {
    const ruleSet = this.#ruleSet;
    if (ruleSet !== undefined)
      return resolveFlag(ruleSet, flagKey, defaultValue, context, type, this.#counts);
    if (this.#invalid !== undefined) return unresolved(defaultValue, ErrorCode.PARSE_ERROR, this.#invalid);
    const why = this.#closing ? "the provider is closed" : "no flags from Gantry yet (and no snapshot)";
    return unresolved(defaultValue, ErrorCode.PROVIDER_NOT_READY, why);
  }

  /** Starts syncing; resolves undefined once Gantry's flag set is in, or with why it is not. */
  #firstRuleSet(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () =>
          this.#first?.done(`Gantry at ${this.#o.baseUrl} did not answer within ${this.#o.initTimeoutMs} ms`),
        this.#o.initTimeoutMs,
      );
      this.#first = {
        done: (failure) => {
          clearTimeout(timer);
          this.#first = undefined;
          resolve(failure);
        },
      };
      this.#sync.start();
      if (this.#counts) {
        this.#reporter = new EvaluationReporter({
          channel: this.#channel,
          counts: this.#counts,
          intervalMs: this.#o.reportIntervalMs,
          requestTimeoutMs: this.#o.requestTimeoutMs,
          maxBackoffMs: this.#o.maxReconnectDelayMs,
          onError: (message) => this.#o.logger.warn(message),
        });
      }
    });
  }

  #received(text: string, via: SyncChannel): void {
    if (this.#closing) return;
    const parsed = parseRuleSetText(text);
    if (!parsed.ok) {
      const kept = this.#ruleSet ? `serving revision ${this.#ruleSet.revision} still` : "no flags to serve";
      const message = `Gantry sent a flag set this SDK cannot use (${kept}): ${parsed.message}`;
      const repeated = message === this.#invalid;
      this.#invalid = message;
      if (this.#first) this.#first.done(message);
      else if (!repeated) this.#setHealth("error", message);
      return;
    }
    this.#invalid = undefined;
    const next = parsed.ruleSet;
    const previous = this.#ruleSet;
    const wasFromServer = this.#source === "server";
    this.#ruleSet = next;
    this.#source = "server";
    const same = previous?.revision === next.revision && previous.environment === next.environment;
    if (!(same && wasFromServer)) this.#snapshot?.write(next);
    if (this.#first) {
      this.#first.done();
      return;
    }
    if (this.#health !== "ready") this.#setHealth("ready");
    if (previous && !same) {
      const flagsChanged = changedFlags(previous.compiled.source, next.compiled.source);
      this.#o.logger.info(`flags: revision ${next.revision} via ${via}, changed: ${flagsChanged.join(", ")}`);
      this.#emit(ProviderEvents.ConfigurationChanged, {
        flagsChanged,
        message: `revision ${next.revision}`,
        metadata: { revision: next.revision, environment: next.environment },
      });
    }
  }

  #contact(): void {
    this.#lastContactAt = Date.now();
    clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    if (!this.#inContact && this.#health !== "starting")
      this.#o.logger.info(`in contact with ${this.#o.baseUrl}`);
    this.#inContact = true;
    this.#refused = undefined;
    const recovered = this.#health === "stale" || this.#health === "error";
    if (recovered && this.#ruleSet && this.#invalid === undefined) this.#setHealth("ready");
  }

  #lost(reason: string, via: SyncChannel): void {
    if (this.#closing) return;
    // During start, a failed poll means Gantry is unreachable: go to the snapshot at once.
    if (via === "poll" && this.#first) this.#first.done(reason);
    if (!this.#inContact && this.#staleTimer !== undefined) return;
    if (this.#inContact) {
      const serving = this.#ruleSet ? `serving revision ${this.#ruleSet.revision}` : "no flags yet";
      this.#o.logger.warn(`lost contact with Gantry (${reason}); ${serving}, reconnecting`);
    }
    this.#inContact = false;
    if (this.#health === "ready") this.#armStaleTimer(reason);
  }

  #refusedToken(status: number, body: string): void {
    const message =
      `Gantry refused the token (${status}${body ? `: ${body}` : ""}); use an sdk token bound to an ` +
      "environment: gantry tokens create --role sdk --env ENVIRONMENT";
    const repeated = message === this.#refused;
    this.#refused = message;
    if (this.#first) this.#first.done(message);
    else if (!repeated) this.#setHealth("error", message);
  }

  #armStaleTimer(reason: string): void {
    clearTimeout(this.#staleTimer);
    this.#staleTimer = setTimeout(() => {
      this.#staleTimer = undefined;
      if (!this.#inContact && this.#health === "ready") {
        this.#setHealth("stale", `no contact with Gantry for ${this.#o.staleAfterMs} ms (${reason})`);
      }
    }, this.#o.staleAfterMs);
    this.#staleTimer.unref();
  }

  #setHealth(health: Health, message?: string): void {
    if (this.#closing) return;
    this.#health = health;
    if (health === "ready") {
      this.#emit(ProviderEvents.Ready, { message: `serving revision ${this.#ruleSet?.revision}` });
    } else if (health === "stale") {
      this.#o.logger.warn(message);
      this.#emit(ProviderEvents.Stale, { message });
    } else if (health === "error") {
      this.#error(message ?? "unknown problem");
    }
  }

  #error(message: string): void {
    this.#o.logger.error(message);
    this.#emit(ProviderEvents.Error, { message });
  }

  #emit(event: ProviderEvents, details: EventContext): void {
    try {
      this.events.emit(event, details);
    } catch (error) {
      this.#o.logger.error(`a ${event} handler threw: ${String(error)}`);
    }
  }

  async #close(): Promise<void> {
    clearTimeout(this.#staleTimer);
    this.#inContact = false;
    this.#first?.done("the provider was closed");
    this.#sync.close();
    try {
      await this.#reporter?.close();
      await this.#snapshot?.idle();
    } finally {
      this.#channel.close();
    }
  }
}
