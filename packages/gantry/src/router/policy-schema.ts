import { z } from "zod";
import type { RouterPolicy } from "./policy.ts";

const upstream = z.object({
  id: z.string().min(1).max(200),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

const backend = z.object({
  version: z.string().min(1).max(100),
  weight: z.number().min(0).max(1_000_000),
  instances: z.array(upstream),
});

const route = z.object({
  service: z.string().min(1).max(100),
  hosts: z.array(z.string().min(1)),
  pathPrefix: z.string().startsWith("/"),
  isDefault: z.boolean(),
  mode: z.enum(["normal", "maintenance", "read-only"]),
  maintenance: z.object({
    retryAfterSeconds: z.number().int().min(0).max(86_400),
    contentType: z.string().min(1),
    body: z.string(),
  }),
  backends: z.array(backend),
  modeUntil: z.iso.datetime({ offset: true }).nullable().optional(),
  readOnly: z
    .object({
      allowPaths: z.array(z.string().startsWith("/")),
      retryAfterSeconds: z.number().int().min(0).max(86_400),
    })
    .optional(),
  fallback: upstream.nullable().optional(),
  breaker: z
    .object({
      forced: z.enum(["open", "closed"]).nullable(),
      errorRate: z.number().min(0).max(1),
      minRequests: z.number().int().min(1),
      windowSeconds: z.number().min(1).max(3600),
      consecutiveFailures: z.number().int().min(0),
      cooldownSeconds: z.number().min(0.1).max(86_400),
      halfOpenRequests: z.number().int().min(1).max(1000),
    })
    .optional(),
  cohorts: z
    .object({
      stable: z.string().min(1),
      candidate: z.string().min(1),
      userKey: z.object({ header: z.string().min(1).optional(), cookie: z.string().min(1).optional() }),
      groups: z.array(
        z.object({
          name: z.string(),
          headers: z.record(z.string(), z.array(z.string())),
          cookies: z.record(z.string(), z.array(z.string())),
          users: z.array(z.string()),
        }),
      ),
      percent: z.number().min(0).max(100),
      salt: z.string(),
    })
    .nullable()
    .optional(),
  pinKey: z.string().min(16).nullable().optional(),
  shadow: z
    .object({
      version: z.string().min(1),
      share: z.number().min(0).max(100),
      methods: z.array(z.string().min(1)),
      ignore: z.array(z.string().min(1)),
      maxConcurrent: z.number().int().min(1).max(10_000),
      maxBodyBytes: z
        .number()
        .int()
        .min(0)
        .max(64 * 1024 * 1024),
      timeoutMs: z.number().int().min(1).max(600_000),
    })
    .nullable()
    .optional(),
});

/** Validates a policy pushed to the router's admin API; a bad one never replaces a good one. */
export const routerPolicySchema: z.ZodType<RouterPolicy> = z.object({
  revision: z.number().int().min(0),
  services: z.array(route),
});
