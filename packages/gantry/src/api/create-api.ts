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
  for (const url of new Set(all.filter((def) => def.cors).map((def) => def.url))) {
    const methods = all.filter((def) => def.cors && def.url === url).map((def) => def.method);
    app.options(url, async (_request, reply) =>
      reply
        .code(204)
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-methods", methods.join(", "))
        .header("access-control-allow-headers", "authorization, content-type, if-none-match, last-event-id")
        .header("access-control-max-age", "86400")
        .send(),
    );
  }
  return app;
}

function register(app: FastifyInstance, def: RouteDef, options: ApiOptions): void {
  const render = def.renderError;
  app.route({
    method: def.method,
    url: def.url,
    ...(def.cors && {
      // On the raw response, so streamed (hijacked) answers and errors carry it too.
      onRequest: (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        reply.raw.setHeader("access-control-allow-origin", "*");
        reply.raw.setHeader("access-control-expose-headers", "etag");
        done();
      },
    }),
    ...(render && {
      errorHandler: (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
        const { status, gantryError } = asGantryError(error, request, options.log);
        return reply.code(status).send(render(gantryError, request));
      },
    }),
    handler: async (request, reply) => {
      const principal = def.authenticate
        ? await def.authenticate(request)
        : await authenticate(request, options);
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
  const { status, gantryError } = asGantryError(error, request, log);
  return reply.code(status).send(gantryError.toJSON());
}

/**
 * Any error of a request as the GantryError it is answered with, and the status (a
 * framework error keeps its own 4xx); unexpected ones are logged and hidden.
 */
function asGantryError(
  error: unknown,
  request: FastifyRequest,
  log: Logger,
): { status: number; gantryError: GantryError } {
  if (isGantryError(error)) return { status: error.status, gantryError: error };
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    const code = fastifyError.statusCode === 413 ? "BAD_ARTIFACT" : "BAD_REQUEST";
    return {
      status: fastifyError.statusCode,
      gantryError: new GantryError(code, fastifyError.message ?? "bad request"),
    };
  }
  log.error({ err: error, method: request.method, url: request.url.split("?")[0] }, "request failed");
  return {
    status: 500,
    gantryError: new GantryError("INTERNAL", "internal error; the server log has the details"),
  };
}
