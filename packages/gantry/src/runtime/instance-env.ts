import type { InstanceSpec } from "./runtime.ts";

/**
 * The only variables an instance inherits from whoever started Gantry. Everything else
 * (API tokens, database URLs of the control plane) stays out of user processes.
 */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"];

export function baseEnv(parent: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = parent[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** The instance's environment: basics, then the spec's env, then Gantry's own variables, which win. */
export function instanceEnv(spec: InstanceSpec, parent: NodeJS.ProcessEnv): Record<string, string> {
  return {
    ...baseEnv(parent),
    ...spec.env,
    PORT: String(spec.port),
    GANTRY_SERVICE: spec.service,
    GANTRY_VERSION: spec.version,
    GANTRY_INSTANCE: spec.id,
  };
}
