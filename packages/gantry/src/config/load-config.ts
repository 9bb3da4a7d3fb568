import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { GantryError } from "../errors/index.ts";
import { type GantryConfig, gantryConfig, serverSpec } from "./gantry-config.ts";
import { parseOrThrow } from "./validation.ts";

/** Reads and validates gantry.yaml; a bad file is refused whole, naming each field and the fix. */
export function loadConfigFile(path: string): GantryConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new GantryError("INVALID_CONFIG", `cannot read config file ${path}: ${(cause as Error).message}`, {
      field: "--config",
      cause,
    });
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, source: string): GantryConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => e.message.split("\n")[0]!);
    throw new GantryError("INVALID_CONFIG", `${source} is not valid YAML:\n  ${problems.join("\n  ")}`, {
      details: { problems },
    });
  }
  const raw = doc.toJS() ?? {};
  return parseOrThrow(gantryConfig, raw, source, "INVALID_CONFIG");
}

const serverOnly = z.object({ server: serverSpec });

export interface ConfigOverrides {
  apiHost?: string | undefined;
  apiPort?: number | undefined;
  routerHost?: string | undefined;
  routerPort?: number | undefined;
  routerAdminPort?: number | undefined;
}

/** defaults ← gantry.yaml ← environment ← command-line flags, validated again, then frozen. */
export function resolveConfig(
  file: GantryConfig | undefined,
  env: NodeJS.ProcessEnv,
  flags: ConfigOverrides,
): Readonly<GantryConfig> {
  const base = file ?? gantryConfig.parse({});
  const fromEnv: ConfigOverrides = {
    apiHost: env.GANTRY_API_HOST,
    apiPort: numberFromEnv(env, "GANTRY_API_PORT"),
    routerHost: env.GANTRY_ROUTER_HOST,
    routerPort: numberFromEnv(env, "GANTRY_ROUTER_PORT"),
  };
  const server = { ...base.server, ...defined(fromEnv), ...defined(flags) };
  // Only the server settings changed since the file was validated; the rest is already parsed.
  const checked = parseOrThrow(serverOnly, { server }, "configuration", "INVALID_CONFIG");
  return Object.freeze({ ...base, server: checked.server });
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) {
    throw new GantryError(
      "INVALID_CONFIG",
      `${name}=${JSON.stringify(text)} is not a port number; set it to e.g. 7070`,
      {
        field: name,
      },
    );
  }
  return value;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
