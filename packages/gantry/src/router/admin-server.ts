import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { describeIssues } from "../config/validation.ts";
import type { RouterPolicy } from "./policy.ts";
import { routerPolicySchema } from "./policy-schema.ts";

export interface AdminHandlers {
  token: string;
  policy(): RouterPolicy;
  /** Applies and persists a validated policy. */
  apply(policy: RouterPolicy): void;
  inflight(): Record<string, number>;
  /** Circuit breaker state by service. */
  breakers(): Record<string, string>;
  metrics(): Promise<string>;
  /** Shadow traffic counts by service. */
  shadow(): Record<string, unknown>;
}

const maxPolicyBytes = 16 * 1024 * 1024;

/** The router's admin API on loopback, for the control plane only: bearer token on every call. */
export function createAdminServer(h: AdminHandlers): Server {
  const expected = Buffer.from(`Bearer ${h.token}`);
  return createServer(async (req, res) => {
    try {
      const given = Buffer.from(req.headers.authorization ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return json(res, 401, {
          error: {
            code: "UNAUTHENTICATED",
            message: "the router's admin API needs its token (DATA/router/admin.token)",
          },
        });
      }
      const path = (req.url ?? "/").split("?")[0];
      if (req.method === "GET" && path === "/healthz")
        return json(res, 200, { ok: true, revision: h.policy().revision });
      if (req.method === "GET" && path === "/policy") return json(res, 200, h.policy());
      if (req.method === "GET" && path === "/inflight") return json(res, 200, h.inflight());
      if (req.method === "GET" && path === "/breakers") return json(res, 200, h.breakers());
      if (req.method === "GET" && path === "/shadow") return json(res, 200, h.shadow());
      if (req.method === "GET" && path === "/metrics") {
        const text = await h.metrics();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        return res.end(text);
      }
      if (req.method === "PUT" && path === "/policy") return putPolicy(req, res, h);
      return json(res, 404, {
        error: { code: "NOT_FOUND", message: `no admin route ${req.method} ${path}` },
      });
    } catch (error) {
      return json(res, 500, { error: { code: "INTERNAL", message: (error as Error).message } });
    }
  });
}

async function putPolicy(req: IncomingMessage, res: ServerResponse, h: AdminHandlers): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxPolicyBytes)
      return json(res, 413, { error: { code: "BAD_REQUEST", message: "policy larger than 16 MiB" } });
    chunks.push(chunk as Buffer);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    return json(res, 400, {
      error: { code: "BAD_REQUEST", message: `policy is not JSON: ${(error as Error).message}` },
    });
  }
  const parsed = routerPolicySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, raw);
    return json(res, 400, {
      error: {
        code: "BAD_REQUEST",
        message: `policy refused; the previous one keeps serving:\n  ${problems.join("\n  ")}`,
        details: { problems },
      },
    });
  }
  const current = h.policy().revision;
  if (parsed.data.revision < current) {
    return json(res, 409, {
      error: {
        code: "CONFLICT",
        message: `policy revision ${parsed.data.revision} is older than the current ${current}`,
      },
    });
  }
  h.apply(parsed.data);
  return json(res, 200, { revision: parsed.data.revision });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
