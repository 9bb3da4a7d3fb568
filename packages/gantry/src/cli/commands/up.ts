import type { AuditEvent } from "../../audit/index.ts";
import { GantryError } from "../../errors/index.ts";

import type { Command } from "../command.ts";

function port(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new GantryError(
      "BAD_REQUEST",
      `${flag} ${JSON.stringify(value)} is not a port; give a number from 1 to 65535`,
      { field: flag },
    );
  }
  return n;
}

function printEvent(event: AuditEvent): void {
  const time = event.at.slice(11, 19);
  const parts = [time, event.action.padEnd(22), event.service ?? "", describe(event)].filter(Boolean);
  process.stdout.write(`${parts.join("  ")}\n`);
}

function describe(e: AuditEvent): string {
  const d = e.data as Record<string, unknown>;
  if (e.action === "rollout.step") return `${d.description}`;
  if (e.action === "rollout.started") return `${d.from ?? "(none)"} → ${d.to} (${d.strategy}) by ${e.actor}`;
  if (e.action === "rollout.failed") return `${e.reason}`;
  if (e.action === "release.created") return `${d.version} ${d.checksum}`;
  if (e.action.startsWith("rollback") || e.action === "rollout.rolled_back") return `${d.from} → ${d.to}`;
  if (e.action.startsWith("flag")) {
    const envs = (d.environments as string[] | undefined)?.join(",");
    return `${e.subject ?? ""}${envs ? ` [${envs}]` : ""} by ${e.actor}${e.reason ? ` — ${e.reason}` : ""}`;
  }
  return e.reason ?? "";
}

export const up: Command = {
  name: "up",
  usage: "gantry up [--data-dir DIR] [--api-port 7070] [--router-port 8080] [--config gantry.yaml] [--demo]",
  summary: "run the control plane, the router and the local runtime",
  help: `Runs Gantry on this machine until Ctrl-C: the HTTP API (/api/v1, OpenAPI at
/api/v1/openapi.json), the router (its own process, so traffic survives a crash of this
one) and the instances of every service. Ctrl-C stops all of it; nothing is left running.

  --data-dir DIR     state: SQLite database, releases, logs, token (default ./.gantry)
  --config FILE      services and ports (default ./gantry.yaml if it exists)
  --api-port N       API port (default 7070; 0 picks a free one)   --api-host H (default 127.0.0.1)
  --router-port N    router port (default 8080)                    --router-host H (default 127.0.0.1)
  --router-admin-port N  the router's loopback admin port (default 7071)
  --demo             declare the demo service (examples/demo-app, Host demo.localhost and the
                     default route) and deploy it as v1 if nothing is deployed yet`,
  options: {
    "data-dir": { type: "string" },
    config: { type: "string" },
    "api-port": { type: "string" },
    "api-host": { type: "string" },
    "router-port": { type: "string" },
    "router-host": { type: "string" },
    "router-admin-port": { type: "string" },
    demo: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
  async run(values) {
    // Loaded here so that other commands do not pay for loading the whole server.
    const { startGantry } = await import("../../main.ts");
    const gantry = await startGantry({
      dataDir: (values["data-dir"] as string | undefined) ?? process.env.GANTRY_DATA_DIR ?? ".gantry",
      configPath: values.config as string | undefined,
      demo: values.demo === true,
      overrides: {
        apiPort: port(values["api-port"], "--api-port"),
        apiHost: values["api-host"] as string | undefined,
        routerPort: port(values["router-port"], "--router-port"),
        routerHost: values["router-host"] as string | undefined,
        routerAdminPort: port(values["router-admin-port"], "--router-admin-port"),
      },
      onEvent: printEvent,
    });
    process.stdout.write(
      [
        `Gantry is up.`,
        `  API      ${gantry.apiUrl}/api/v1   (token in ${gantry.dataDir}/token)`,
        `  router   ${gantry.routerUrl}${values.demo ? `   demo: curl -H 'Host: demo.localhost' ${gantry.routerUrl}/` : ""}`,
        `  log      ${gantry.dataDir}/gantry.log`,
        `Ctrl-C stops Gantry, the router and every instance.`,
        "",
      ].join("\n"),
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stdout.write(`\n${signal}: stopping instances, router and control plane…\n`);
        void gantry.shutdown().then(() => {
          process.stdout.write("Gantry stopped.\n");
          resolve();
        });
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    return 0;
  },
};
