import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { Permission, Principal } from "../auth/index.ts";

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
