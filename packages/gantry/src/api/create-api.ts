import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import { allows, leastRoleFor, type Principal, type TokenService } from "../auth/index.ts";
import { parseOrThrow } from "../config/index.ts";
import { GantryError, isGantryError } from "../errors/index.ts";
import { openApiDocument } from "./openapi.ts";
import type { RouteDef } from "./route.ts";

export interface ApiOptions {
  routes: RouteDef[];
  tokens: TokenService;
  log: Logger;
  version: string;
  /** Where the local admin token lives, named in the 401 message. */
  tokenFile: string;
  /** Largest request body accepted (release archives), in bytes. */
  bodyLimit?: number;
}

/** The HTTP API: authentication, authorisation by role, validation, errors; handlers do the rest. */
export function createApi(options: ApiOptions): FastifyInstance {
  const app = Fastify({
    // Request lines are debug noise; warnings and errors still reach the log.
    loggerInstance: options.log.child({ component: "api" }, { level: "warn" }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 512 * 1024 * 1024,
    // Secrets travel in headers; never let a log line carry them.
    requestIdHeader: false,
  });
  app.addContentTypeParser(
    ["application/gzip", "application/octet-stream"],
    { parseAs: "buffer" },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply, options.log));
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        new GantryError(
          "NOT_FOUND",
          `no API route ${request.method} ${request.url.split("?")[0]}; see /api/v1/openapi.json`,
        ).toJSON(),
      ),
  );
  app.get("/healthz", async () => ({ ok: true }));

  const document = openApiDocument(options.routes, options.version);
  const all: RouteDef[] = [
    ...options.routes,
    {
      method: "GET",
      url: "/api/v1/openapi.json",
      permission: "read",
      summary: "This API's OpenAPI document",
      tag: "meta",
      handler: async () => document,
    },
  ];
  for (const def of all) register(app, def, options);
  return app;
}

function register(app: FastifyInstance, def: RouteDef, options: ApiOptions): void {
  app.route({
    method: def.method,
    url: def.url,
    handler: async (request, reply) => {
      const principal = await authenticate(request, options);
      if (!allows(principal.role, def.permission)) {
        throw new GantryError(
          "FORBIDDEN",
          `token "${principal.name}" has role ${principal.role}; ${def.method} ${def.url} needs ${roleFor(def)}`,
        );
      }
      const raw = def.rawBody ? (request.body as Buffer | undefined) : undefined;
      if (def.rawBody && !Buffer.isBuffer(raw)) {
        throw new GantryError(
          "BAD_REQUEST",
          `send the body as ${def.rawBody} (Content-Type: ${def.rawBody})`,
          { field: "body" },
        );
      }
      const result = await def.handler({
        principal,
        body: def.body ? parseOrThrow(def.body, request.body ?? {}, "request body") : undefined,
        query: def.query ? parseOrThrow(def.query, request.query ?? {}, "query") : undefined,
        params: def.params ? parseOrThrow(def.params, request.params ?? {}, "path") : undefined,
        raw,
        request,
        reply,
      });
      if (reply.sent) return reply;
      reply.code(def.status ?? 200);
      return result;
    },
  });
}

function roleFor(def: RouteDef): string {
  return leastRoleFor[def.permission];
}

async function authenticate(request: FastifyRequest, options: ApiOptions): Promise<Principal> {
  const header = request.headers.authorization;
  const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) {
    throw new GantryError(
      "UNAUTHENTICATED",
      `send Authorization: Bearer <token>; the local admin token is in ${options.tokenFile}, others come from \`gantry tokens create\``,
    );
  }
  const principal = await options.tokens.authenticate(token);
  if (!principal)
    throw new GantryError("UNAUTHENTICATED", "the token is not valid (revoked, or from another Gantry)");
  return principal;
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply, log: Logger): FastifyReply {
  if (isGantryError(error)) return reply.code(error.status).send(error.toJSON());
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    const code = fastifyError.statusCode === 413 ? "BAD_ARTIFACT" : "BAD_REQUEST";
    return reply
      .code(fastifyError.statusCode)
      .send(new GantryError(code, fastifyError.message ?? "bad request").toJSON());
  }
  log.error({ err: error, method: request.method, url: request.url.split("?")[0] }, "request failed");
  return reply
    .code(500)
    .send(new GantryError("INTERNAL", "internal error; the server log has the details").toJSON());
}
