import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PinnedProcesses } from "./processes.ts";

const routerEntry = new URL("../../packages/gantry/src/router/router-process.ts", import.meta.url).pathname;

/** The one-service policy the bench gives the router: every request goes to the upstream. */
function benchPolicy(upstreamPort: number): unknown {
  return {
    revision: 1,
    services: [
      {
        service: "bench",
        hosts: [],
        pathPrefix: "/",
        isDefault: true,
        mode: "normal",
        maintenance: { retryAfterSeconds: 5, contentType: "text/plain", body: "x" },
        backends: [
          { version: "v1", weight: 1, instances: [{ id: "up-1", host: "127.0.0.1", port: upstreamPort }] },
        ],
      },
    ],
  };
}

/**
 * Starts Gantry's router process as it ships (node running the TypeScript source) and routes
 * everything to the upstream through its admin API. Returns the router's pid.
 */
export async function startGantryRouter(o: {
  processes: PinnedProcesses;
  cpu: number;
  dataDir: string;
  port: number;
  adminPort: number;
  upstreamPort: number;
  nodeFlags: string[];
}): Promise<number> {
  const child = o.processes.start("gantry-router", o.cpu, process.execPath, [
    ...o.nodeFlags,
    routerEntry,
    ...["--data-dir", o.dataDir, "--port", String(o.port), "--host", "127.0.0.1"],
    ...["--admin-port", String(o.adminPort)],
  ]);
  const info = join(o.dataDir, "router", "admin.json");
  for (let i = 0; !existsSync(info); i++) {
    if (i > 200) throw new Error(`the router did not write ${info} within 10 s`);
    await sleep(50);
  }
  const token = readFileSync(join(o.dataDir, "router", "admin.token"), "utf8").trim();
  const answer = await fetch(`http://127.0.0.1:${o.adminPort}/policy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(benchPolicy(o.upstreamPort)),
  });
  if (!answer.ok) throw new Error(`the router refused the policy: ${answer.status} ${await answer.text()}`);
  return child.pid!;
}
