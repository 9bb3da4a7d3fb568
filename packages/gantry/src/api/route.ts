import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { Permission, Principal } from "../auth/index.ts";
import type { GantryError } from "../errors/index.ts";

/** One API operation: its path, who may call it, its input schemas and its handler. */
export interface RouteDef<
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
> {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  permission: Permission;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /** The body is raw bytes of this content type (e.g. a release archive), not JSON. */
  rawBody?: string;
  /** Documented success status; 200 unless said. */
  status?: number;
  /**
   * Who is calling, when not `Authorization: Bearer <token>`: a route opened without
   * headers (an EventSource) checks a credential in its URL. Resolves to the principal or
   * throws UNAUTHENTICATED.
   */
  authenticate?: (request: FastifyRequest) => Promise<Principal>;
  /**
   * The body of an error answered by this route, when a protocol other than Gantry's own
   * defines it (OFREP); Gantry's `{error: {code, message}}` otherwise.
   */
  renderError?: (error: GantryError, request: FastifyRequest) => unknown;
  /**
   * Callable from web pages of any origin (CORS): answers preflights and lets scripts read
   * its ETag. Only for routes authenticated by a token sent explicitly, never by cookies.
   */
  cors?: boolean;
  handler: (input: RouteInput<B, Q, P>) => Promise<unknown>;
}

export interface RouteInput<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  principal: Principal;
  body: z.output<B>;
  query: z.output<Q>;
  params: z.output<P>;
  raw: Buffer | undefined;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** Keeps the generic types of each route while collecting them in one list. */
export function route<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(
  def: RouteDef<B, Q, P>,
): RouteDef {
  return def as unknown as RouteDef;
}
