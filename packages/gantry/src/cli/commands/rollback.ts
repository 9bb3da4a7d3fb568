import type { RolloutSummary } from "../../rollout/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson } from "../render.ts";
import { waitForRollout } from "./wait.ts";

export const rollback: Command = {
  name: "rollback",
  usage: "gantry rollback SERVICE [--wait] [--reason TEXT]",
  summary: "abort the running rollout, or return to the previous version",
  help: `While a rollout runs, aborts it: traffic returns to the version that was live before.
Otherwise returns to the previous version: by switching traffic back (well under a second)
when that colour is still running idle after a blue-green deploy, else by deploying the
previous release with the service's strategy. Rollbacks are never blocked.

  --wait          follow it; exit 0 when the previous version serves all traffic
  --reason TEXT   why, for the audit trail
  --force         roll back even though live releases of other services require the
                  current version (without it, such a rollback is refused with the list)
  --json          print the rollout as JSON
${clientHelp}`,
  options: {
    ...clientOptions,
    wait: { type: "boolean" },
    reason: { type: "string" },
    force: { type: "boolean" },
  },
  async run(values, positionals) {
    const service = requirePositional(rollback, positionals, 0, "SERVICE");
    const client = clientFrom(values);
    const body = {
      ...(values.reason !== undefined && { reason: values.reason }),
      ...(values.force === true && { force: true }),
    };
    const { rollout } = await client.request<{ rollout: RolloutSummary }>(
      "POST",
      `/api/v1/services/${encodeURIComponent(service)}/rollback`,
      body,
    );
    if (values.wait) return waitForRollout(client, rollout.id, values.json === true);
    if (values.json) printJson({ rollout });
    else if (rollout.kind === "deploy")
      process.stdout.write(
        `rollout ${rollout.id} of ${rollout.to} is being aborted; ${rollout.from ?? "nothing"} takes the traffic back\n`,
      );
    else
      process.stdout.write(
        `rollback ${rollout.id}: ${service} ${rollout.from} → ${rollout.to} (${rollout.strategy}) started\n`,
      );
    return 0;
  },
};
