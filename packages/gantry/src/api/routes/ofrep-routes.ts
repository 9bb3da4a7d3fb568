import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { Principal } from "../../auth/index.ts";
import { GantryError } from "../../errors/index.ts";
import {
  bulkEtag,
  bulkJson,
  environmentFor,
  etagMatches,
  eventStreamsMember,
  type OfrepErrorCode,
  ofrepErrorBody,
  ofrepEvaluationJson,
  ofrepStatus,
  parseEvaluationRequest,
  readsClock,
} from "../../flags/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

/**
 * The OpenFeature Remote Evaluation Protocol (OFREP): single and bulk evaluation, and the
 * change notification stream the bulk response points to (ADR-0008). An sdk token's
 * environment decides what is served (people name one with ?env=). The OFREP bodies and
 * statuses come from flags/ofrep.ts; this file only wires them to HTTP.
 */
export function ofrepRoutes(ctx: ApiContext): RouteDef[] {
  const flags = ctx.flags.service;
  const eventStreams = new EventStreamMembers(ctx);
  const envQuery = z.object({
    env: z
      .string()
      .optional()
      .describe("the flag environment; an sdk token evaluates in its own and needs none"),
  });
  return [
    route({
      method: "POST",
      url: "/ofrep/v1/evaluate/flags/:key",
      permission: "sync",
      tag: "ofrep",
      cors: true,
      summary:
        "OFREP single flag evaluation: body {context}; 200 {key, value, reason, variant}, 404 FLAG_NOT_FOUND, 400 {key, errorCode, errorDetails}",
      query: envQuery,
      params: z.object({ key: z.string().min(1) }),
      renderError: (error, request) =>
        ofrepErrorBody((request.params as { key?: string }).key ?? "", errorCodeOf(error), error.message),
      handler: async ({ principal, query, params, request, reply }) => {
        const environment = ofrepEnvironment(ctx, principal, query.env);
        const parsed = parseEvaluationRequest(request.body);
        reply.header("content-type", "application/json; charset=utf-8").header("cache-control", "no-store");
        if (!parsed.ok)
          return reply
            .code(400)
            .send(JSON.stringify(ofrepErrorBody(params.key, parsed.errorCode, parsed.errorDetails)));
        const result = flags.evaluate(environment, params.key, parsed.context);
        return reply.code(ofrepStatus(result)).send(ofrepEvaluationJson(params.key, result));
      },
    }),
    route({
      method: "POST",
      url: "/ofrep/v1/evaluate/flags",
      permission: "sync",
      tag: "ofrep",
      cors: true,
      summary:
        "OFREP bulk evaluation: body {context}; 200 {flags: [...], eventStreams: [{type: sse, url}]} with an ETag; If-None-Match with it → 304 while neither the flags nor the context changed",
      query: envQuery.extend({
        flagConfigEtag: z
          .string()
          .optional()
          .describe("sent by providers on a refetch an SSE notification asked for; accepted, not needed"),
        flagConfigLastModified: z.string().optional().describe("as flagConfigEtag"),
      }),
      renderError: (error) => ofrepErrorBody(undefined, errorCodeOf(error), error.message),
      handler: async ({ principal, query, request, reply }) => {
        const environment = ofrepEnvironment(ctx, principal, query.env);
        const parsed = parseEvaluationRequest(request.body);
        reply.header("content-type", "application/json; charset=utf-8").header("cache-control", "no-cache");
        if (!parsed.ok)
          return reply
            .code(400)
            .send(JSON.stringify(ofrepErrorBody(undefined, parsed.errorCode, parsed.errorDetails)));
        const snapshot = flags.snapshot(environment);
        const streams = await eventStreams.member(request, principal, environment);
        const body = () =>
          bulkJson(
            Object.entries(flags.evaluateAll(environment, parsed.context)).map(([key, result]) =>
              ofrepEvaluationJson(key, result),
            ),
            streams,
          );
        // What a set that reads the clock serves changes with time alone: tag the answer itself.
        if (clockReaders.get(snapshot) ?? remember(snapshot, readsClock(snapshot.flagSet))) {
          const text = body();
          const etag = bulkEtag(environment, "clock", text);
          reply.header("etag", etag);
          if (etagMatches(request.headers["if-none-match"], etag)) return reply.code(304).send();
          return text;
        }
        const etag = bulkEtag(environment, `${snapshot.revision}\0${streams}`, parsed.contextJson);
        reply.header("etag", etag);
        if (etagMatches(request.headers["if-none-match"], etag)) return reply.code(304).send();
        return body();
      },
    }),
    route({
      method: "GET",
      url: "/ofrep/v1/events",
      permission: "sync",
      tag: "ofrep",
      cors: true,
      summary:
        "OFREP change notifications (ADR-0008), the URL a bulk response's eventStreams gives: server-sent `refetchEvaluation` messages, id = revision, one on connect unless Last-Event-ID is current and one after every change; authenticated by the signed credential in the URL",
      query: z.object({
        env: z.string().min(1).describe("the environment the URL was issued for"),
        credential: z.string().min(1).describe("issued with the bulk response; revoked with its token"),
      }),
      authenticate: (request) => eventStreams.authenticate(request),
      handler: async ({ principal, query, request, reply }) => {
        const environment = ofrepEnvironment(ctx, principal, query.env);
        reply.hijack();
        const lastEventId = request.headers["last-event-id"];
        ctx.flags.ofrepStreams.open(
          environment,
          reply.raw,
          typeof lastEventId === "string" ? lastEventId : undefined,
        );
        return undefined;
      },
    }),
  ];
}

/** Whether a snapshot's set reads the clock, computed once per revision. */
const clockReaders = new WeakMap<object, boolean>();
function remember(snapshot: object, reads: boolean): boolean {
  clockReaders.set(snapshot, reads);
  return reads;
}

/** The environment evaluated in: the sdk token's own (or the one a person names), which must still exist. */
function ofrepEnvironment(ctx: ApiContext, principal: Principal, requested: string | undefined): string {
  const environment = environmentFor(principal, requested);
  if (!ctx.flags.service.environments.some((e) => e.name === environment)) {
    const listed = ctx.flags.service.environments.map((e) => e.name).join(", ");
    if (principal.role === "sdk")
      throw new GantryError(
        "FORBIDDEN",
        `sdk token "${principal.name}" is bound to flag environment "${environment}", which gantry.yaml flags.environments no longer lists (it lists: ${listed}); create a token for one of those`,
      );
    throw new GantryError(
      "BAD_REQUEST",
      `no flag environment "${environment}"; give ?env= one of: ${listed}`,
      {
        field: "env",
      },
    );
  }
  return environment;
}

/** The OFREP error code of a request that failed before any evaluation. */
function errorCodeOf(error: GantryError): OfrepErrorCode {
  if (error.code === "BAD_REQUEST" && (error.field === undefined || error.field === "body")) {
    return "INVALID_CONTEXT";
  }
  return "GENERAL";
}

/**
 * The `eventStreams` member of bulk responses: one SSE URL per token and environment, on
 * the host the client reached, carrying a signed credential (EventSource sends no headers).
 */
class EventStreamMembers {
  readonly #ctx: ApiContext;
  readonly #members = new Map<string, string>();

  constructor(ctx: ApiContext) {
    this.#ctx = ctx;
  }

  async member(request: FastifyRequest, principal: Principal, environment: string): Promise<string> {
    const origin = clientOrigin(request);
    const cacheKey = `${principal.tokenId}\0${environment}\0${origin}`;
    const cached = this.#members.get(cacheKey);
    if (cached !== undefined) return cached;
    const credential = await this.#ctx.tokens.urlCredential(principal, scope(environment));
    const url = `${origin}/ofrep/v1/events?env=${encodeURIComponent(environment)}&credential=${encodeURIComponent(credential)}`;
    const member = eventStreamsMember([{ type: "sse", url }]);
    // Host headers are the client's to choose: keep the memo from growing without bound.
    if (this.#members.size >= 1000) this.#members.clear();
    this.#members.set(cacheKey, member);
    return member;
  }

  async authenticate(request: FastifyRequest): Promise<Principal> {
    const { env, credential } = request.query as { env?: unknown; credential?: unknown };
    const principal =
      typeof env === "string" && typeof credential === "string"
        ? await this.#ctx.tokens.authenticateUrl(credential, scope(env))
        : undefined;
    if (!principal)
      throw new GantryError(
        "UNAUTHENTICATED",
        "this event stream URL is not valid (its token was revoked, or it comes from another Gantry or environment); take the current one from a bulk evaluation's eventStreams",
      );
    return principal;
  }
}

/**
 * The origin the client reached: behind a proxy that terminates TLS, the one it names in
 * X-Forwarded-Proto and X-Forwarded-Host (else a page on https would be given an http URL,
 * which browsers block). Trusting them is safe here: the URL goes back only to the client
 * that sent them, which holds the token anyway.
 */
function clientOrigin(request: FastifyRequest): string {
  const first = (header: string | string[] | undefined) =>
    (Array.isArray(header) ? header[0] : header)?.split(",")[0]?.trim() || undefined;
  const proto = first(request.headers["x-forwarded-proto"]);
  const host = first(request.headers["x-forwarded-host"]);
  return `${proto === "https" || proto === "http" ? proto : request.protocol}://${host ?? request.host}`;
}

function scope(environment: string): string {
  return `ofrep-events:${environment}`;
}
