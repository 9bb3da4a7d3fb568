import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { GantryError, type GantryErrorJson } from "../errors/index.ts";

export interface ClientOptions {
  dataDir?: string | undefined;
  api?: string | undefined;
  token?: string | undefined;
}

/** Where a command finds the API and its token: flags, then GANTRY_API / GANTRY_TOKEN, then the data dir. */
export function resolveClient(options: ClientOptions, env = process.env): ApiClient {
  const dataDir = resolve(options.dataDir ?? env.GANTRY_DATA_DIR ?? ".gantry");
  const api = options.api ?? env.GANTRY_API ?? readApiUrl(dataDir);
  const token = options.token ?? env.GANTRY_TOKEN ?? readToken(dataDir);
  return new ApiClient(api, token);
}

function readApiUrl(dataDir: string): string {
  const file = `${dataDir}/api.json`;
  if (!existsSync(file)) {
    throw new GantryError(
      "UNAVAILABLE",
      `no running Gantry found in ${dataDir} (no api.json); start one with \`gantry up\`, or point to it with --data-dir, --api URL or GANTRY_API`,
    );
  }
  return JSON.parse(readFileSync(file, "utf8")).url;
}

function readToken(dataDir: string): string | undefined {
  const file = `${dataDir}/token`;
  return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}

/** The client for a command's parsed --data-dir and --api options. */
export function clientFrom(values: Record<string, unknown>): ApiClient {
  return resolveClient({
    dataDir: values["data-dir"] as string | undefined,
    api: values.api as string | undefined,
  });
}

/** A thin client of the HTTP API; errors come back as GantryError with the server's code and message. */
export class ApiClient {
  readonly base: string;
  readonly #token: string | undefined;

  constructor(base: string, token: string | undefined) {
    this.base = base.replace(/\/$/, "");
    this.#token = token;
  }

  async request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const response = await this.fetch(method, path, body, contentType);
    const text = await response.text();
    const json = text ? JSON.parse(text) : {};
    if (!response.ok) throw fromErrorBody(json, response.status);
    return json as T;
  }

  async fetch(method: string, path: string, body?: unknown, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let payload: string | Uint8Array | undefined;
    if (body instanceof Uint8Array) {
      payload = body;
      headers["content-type"] = contentType ?? "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    try {
      return await fetch(`${this.base}${path}`, { method, headers, body: (payload ?? null) as never });
    } catch (cause) {
      throw new GantryError(
        "UNAVAILABLE",
        `cannot reach the Gantry API at ${this.base} (${(cause as Error).cause ?? (cause as Error).message}); is \`gantry up\` running?`,
        { cause },
      );
    }
  }
}

function fromErrorBody(json: Partial<GantryErrorJson>, status: number): GantryError {
  const error = json.error;
  if (!error) return new GantryError("INTERNAL", `the API answered ${status}`);
  return new GantryError(error.code, error.message, {
    ...(error.field !== undefined && { field: error.field }),
    ...(error.details !== undefined && { details: error.details }),
  });
}
