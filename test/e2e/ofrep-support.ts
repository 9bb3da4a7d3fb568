import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { gantry, type RunningGantry } from "./harness.ts";

/** A call to Gantry's API or OFREP endpoints, body parsed as JSON. */
export async function call(
  g: RunningGantry,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string> } = {},
) {
  const token = options.token === undefined ? adminToken(g) : options.token;
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  const response = await fetch(`${g.apiUrl}${path}`, {
    method,
    headers: {
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...(hasBody && { "content-type": "application/json" }),
      ...options.headers,
    },
    body: options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the API answers
    json: (text ? JSON.parse(text) : null) as any,
  };
}

export function adminToken(g: RunningGantry): string {
  return readFileSync(`${g.dataDir}/token`, "utf8").trim();
}

/** `gantry tokens create` through the real CLI. */
export async function createToken(g: RunningGantry, role: string, env?: string): Promise<string> {
  const created = await gantry(g.dataDir, [
    "tokens",
    "create",
    "--role",
    role,
    ...(env ? ["--env", env] : []),
  ]);
  expect(created.code, created.stderr).toBe(0);
  return created.stdout.trim();
}

/** Paths in a JSON value whose value is null (OFREP bodies must have none outside flag values). */
export function nullPaths(value: unknown, path = "$"): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nullPaths(v, `${path}[${i}]`));
  if (typeof value === "object")
    return Object.entries(value as object).flatMap(([k, v]) => nullPaths(v, `${path}.${k}`));
  return [];
}
