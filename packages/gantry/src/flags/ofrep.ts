import { createHash } from "node:crypto";
import type { EvaluationContext, EvaluationResult, FlagSet, FlagValue } from "@gantry/sdk";

/**
 * The OpenFeature Remote Evaluation Protocol (OFREP) as pure functions: evaluator results
 * turned into OFREP bodies and statuses, requests checked, bulk ETags. No I/O; the routes
 * (api/routes/ofrep-routes.ts) call these.
 *
 * Bodies never carry `null`: a field without a value is left out. Every failure carries
 * `key` and `errorCode`, which is how both OFREP providers tell a failure from a success.
 */

/** The error codes an OFREP body can carry (OpenFeature's, those a remote evaluation can produce). */
export type OfrepErrorCode =
  | "FLAG_NOT_FOUND"
  | "TYPE_MISMATCH"
  | "TARGETING_KEY_MISSING"
  | "INVALID_CONTEXT"
  | "PARSE_ERROR"
  | "GENERAL";

export interface OfrepSuccess {
  readonly key: string;
  readonly value: FlagValue;
  readonly reason: string;
  readonly variant: string;
}

export interface OfrepFailure {
  readonly key: string;
  readonly errorCode: OfrepErrorCode;
  readonly errorDetails?: string;
}

export type OfrepEvaluation = OfrepSuccess | OfrepFailure;

/** A failure of the whole bulk request (a bad context), which has no flag key. */
export interface OfrepBulkFailure {
  readonly errorCode: OfrepErrorCode;
  readonly errorDetails: string;
}

/** One evaluator result as the OFREP evaluation of `key`. */
export function toOfrepEvaluation(key: string, result: EvaluationResult): OfrepEvaluation {
  if (result.reason === "ERROR" || result.value === null || result.variant === null) {
    const failure: { key: string; errorCode: OfrepErrorCode; errorDetails?: string } = {
      key,
      errorCode: result.errorCode ?? "GENERAL",
    };
    if (result.errorMessage) failure.errorDetails = result.errorMessage;
    return failure;
  }
  return { key, value: result.value, reason: result.reason, variant: result.variant };
}

/**
 * The status of a single-flag evaluation: 200 for a value, 404 for FLAG_NOT_FOUND, 400
 * for any other failure (the spec's evaluationFailure: the context cannot be evaluated).
 * Both providers read the body of a 400/404 for `errorCode`.
 */
export function ofrepStatus(result: EvaluationResult): 200 | 400 | 404 {
  if (result.reason !== "ERROR") return 200;
  return result.errorCode === "FLAG_NOT_FOUND" ? 404 : 400;
}

/**
 * The JSON of one evaluation, memoised per result: the evaluator shares one frozen result
 * between all evaluations that serve it, so a bulk response is mostly string joins.
 * Results made per call (errors from prerequisites) are keyed by nothing that survives.
 */
const fragments = new WeakMap<EvaluationResult, { key: string; json: string }>();

export function ofrepEvaluationJson(key: string, result: EvaluationResult): string {
  const cached = fragments.get(result);
  if (cached !== undefined && cached.key === key) return cached.json;
  const json = JSON.stringify(toOfrepEvaluation(key, result));
  fragments.set(result, { key, json });
  return json;
}

/** Extra top-level members of a bulk response, already JSON: `,"eventStreams":[...]`. */
export function bulkJson(evaluations: readonly string[], extraMembers = ""): string {
  return `{"flags":[${evaluations.join(",")}]${extraMembers}}`;
}

/** A real-time change notification endpoint (ADR-0008), as the web provider reads it. */
export interface OfrepEventStream {
  readonly type: "sse";
  readonly url: string;
  readonly inactivityDelaySec?: number;
}

/** The `eventStreams` member of a bulk response, ready to pass to `bulkJson`. */
export function eventStreamsMember(streams: readonly OfrepEventStream[]): string {
  return streams.length === 0 ? "" : `,"eventStreams":${JSON.stringify(streams)}`;
}

/**
 * What an SSE notification says (ADR-0008): refetch the bulk evaluation. `etag` is the
 * environment's configuration tag (not the context-dependent bulk ETag); the provider
 * sends it back as a query parameter of the refetch. The message has no `event:` field,
 * so it is a `message` event, the one the providers listen to.
 */
export function refetchEvent(
  id: string,
  etag: string,
  options: { lastModifiedSec?: number; retryMs?: number } = {},
): string {
  const data = JSON.stringify({
    type: "refetchEvaluation",
    etag,
    ...(options.lastModifiedSec !== undefined && { lastModified: options.lastModifiedSec }),
  });
  return `id: ${id}\n${options.retryMs !== undefined ? `retry: ${options.retryMs}\n` : ""}data: ${data}\n\n`;
}

/**
 * Whether what a flag set serves depends on the time: a clause on `$now` anywhere (flag
 * rules, segments). Such a set cannot be tagged by revision and context alone.
 */
export function readsClock(set: FlagSet): boolean {
  const onClock = (clauses: readonly { attribute?: string | undefined }[]) =>
    clauses.some((c) => c.attribute === "$now");
  for (const flag of Object.values(set.flags))
    for (const environment of Object.values(flag.environments))
      if (environment.rules.some((rule) => onClock(rule.clauses))) return true;
  for (const segment of Object.values(set.segments)) if (segment.rules.some(onClock)) return true;
  return false;
}

/**
 * The body of a failed OFREP request (authentication, authorisation, a bad request, an
 * internal error): always `errorCode` and `errorDetails`, and on the single-flag endpoint
 * the flag's `key`, so the providers (which test for `key` and `errorCode`) read it as a
 * failure and nothing in it is null.
 */
export function ofrepErrorBody(
  key: string | undefined,
  errorCode: OfrepErrorCode,
  errorDetails: string,
): OfrepFailure | OfrepBulkFailure {
  return key === undefined ? { errorCode, errorDetails } : { key, errorCode, errorDetails };
}

export type ParsedRequest =
  | { readonly ok: true; readonly context: EvaluationContext; readonly contextJson: string }
  | { readonly ok: false; readonly errorCode: OfrepErrorCode; readonly errorDetails: string };

const EMPTY: EvaluationContext = Object.freeze({});

/**
 * Checks an evaluation request body `{ context }`. A missing body or context is the empty
 * context; anything else that is not an object, or a targetingKey that is not a string,
 * is INVALID_CONTEXT with the field named.
 */
export function parseEvaluationRequest(body: unknown): ParsedRequest {
  if (body === undefined || body === null) return { ok: true, context: EMPTY, contextJson: "{}" };
  if (typeof body !== "object" || Array.isArray(body)) {
    return invalid(`the request body must be a JSON object { "context": { ... } }, not ${describe(body)}`);
  }
  const context = (body as { context?: unknown }).context;
  if (context === undefined || context === null) return { ok: true, context: EMPTY, contextJson: "{}" };
  if (typeof context !== "object" || Array.isArray(context)) {
    return invalid(`context must be an object of attributes, not ${describe(context)}`);
  }
  const targetingKey = (context as { targetingKey?: unknown }).targetingKey;
  if (targetingKey !== undefined && typeof targetingKey !== "string") {
    return invalid(`context.targetingKey must be a string, not ${describe(targetingKey)}`);
  }
  return { ok: true, context: context as EvaluationContext, contextJson: JSON.stringify(context) };
}

function invalid(errorDetails: string): ParsedRequest {
  return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return `a ${typeof value} (${JSON.stringify(value)?.slice(0, 40)})`;
}

/**
 * The ETag of a bulk evaluation: a hash of what the answer depends on, the served state of
 * the environment (its revision, and anything overlaid on it) and the context as sent. The
 * same context polled against the same state gets the same tag, so a 304 needs no evaluation.
 */
export function bulkEtag(environment: string, state: string, contextJson: string): string {
  const hash = createHash("sha256").update(environment).update("\0").update(state).update("\0");
  return `"${hash.update(contextJson).digest("base64url").slice(0, 27)}"`;
}

/**
 * Whether an If-None-Match header names the tag: a list of tags, weak or strong (weak
 * comparison, as RFC 9110 asks for If-None-Match), or `*`.
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  for (const candidate of ifNoneMatch.split(",")) {
    const tag = candidate.trim();
    if (tag === "*") return true;
    if ((tag.startsWith("W/") ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}
