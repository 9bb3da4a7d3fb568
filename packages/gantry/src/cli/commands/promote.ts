import type { RolloutSummary } from "../../rollout/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson } from "../render.ts";
import { waitForRollout } from "./wait.ts";

export const promote: Command = {
  name: "promote",
  usage: "gantry promote SERVICE [--full] [--reason TEXT]",
  summary: "end the pause or analysis a canary or phased rollout waits in; its next step follows",
  help: `A canary's steps may pause until promoted ({pause: promote}); promote ends that pause.
Given during a timed pause or an analysis, it ends that step early (an analysis that has
already failed has rolled the canary back: promote cannot undo that). Audited.

  --full          skip every analysis and pause left: straight on to all traffic
  --reason TEXT   why, for the audit trail
  --json          print the rollout as JSON
${clientHelp}`,
  options: { ...clientOptions, reason: { type: "string" }, full: { type: "boolean" } },
  async run(values, positionals) {
    const service = requirePositional(promote, positionals, 0, "SERVICE");
    const { rollout } = await clientFrom(values).request<{ rollout: RolloutSummary }>(
      "POST",
      `/api/v1/services/${encodeURIComponent(service)}/promote`,
      {
        ...(values.reason !== undefined && { reason: values.reason }),
        ...(values.full === true && { full: true }),
      },
    );
    if (values.json) printJson({ rollout });
    else if (values.full)
      process.stdout.write(
        `rollout ${rollout.id} of ${service}: promoted in full; ${rollout.to} takes all traffic without further analysis\n`,
      );
    else
      process.stdout.write(
        `rollout ${rollout.id} of ${service}: "${rollout.stepDescription}" ends; the next step follows\n`,
      );
    return 0;
  },
};

function control(verb: "pause" | "resume", summary: string, help: string, done: string): Command {
  const command: Command = {
    name: verb,
    usage: `gantry ${verb} SERVICE [--reason TEXT]`,
    summary,
    help: `${help}

  --reason TEXT   why, for the audit trail
  --json          print the rollout as JSON
${clientHelp}`,
    options: { ...clientOptions, reason: { type: "string" } },
    async run(values, positionals) {
      const service = requirePositional(command, positionals, 0, "SERVICE");
      const { rollout } = await clientFrom(values).request<{ rollout: RolloutSummary }>(
        "POST",
        `/api/v1/services/${encodeURIComponent(service)}/${verb}`,
        values.reason !== undefined ? { reason: values.reason } : {},
      );
      if (values.json) printJson({ rollout });
      else
        process.stdout.write(
          `rollout ${rollout.id} of ${service} (${rollout.from} → ${rollout.to}) ${done}\n`,
        );
      return 0;
    },
  };
  return command;
}

export const pauseRollout = control(
  "pause",
  "hold the running rollout before its next step",
  `Holds the rollout before its next step until \`gantry resume\`: traffic stays as it is. The
step under way finishes first; an analysis under way keeps judging and still rolls back on
a failing verdict. A paused rollout stays paused across a restart of Gantry. Audited.`,
  "is paused before its next step",
);

export const resumeRollout = control(
  "resume",
  "let a paused rollout go on",
  "Lets a rollout held by `gantry pause` go on with its next step. Audited.",
  "goes on",
);

export const abort: Command = {
  name: "abort",
  usage: "gantry abort SERVICE [--wait] [--reason TEXT]",
  summary: "abort the running rollout: traffic back to the version live before",
  help: `Aborts the rollout under way (as \`gantry rollback\` does while one runs): all traffic
returns to the version that was live before, in one switch when its instances still run,
and the new version's instances stop. Unlike rollback, it never starts a rollback of a
finished deploy: with no rollout running it changes nothing and exits non-zero. Audited.

  --wait          follow it; exit 0 when the previous version serves all traffic
  --reason TEXT   why, for the audit trail
  --json          print the rollout as JSON
${clientHelp}`,
  options: { ...clientOptions, wait: { type: "boolean" }, reason: { type: "string" } },
  async run(values, positionals) {
    const service = requirePositional(abort, positionals, 0, "SERVICE");
    const client = clientFrom(values);
    const { rollout } = await client.request<{ rollout: RolloutSummary }>(
      "POST",
      `/api/v1/services/${encodeURIComponent(service)}/rollback`,
      { abortOnly: true, ...(values.reason !== undefined && { reason: values.reason }) },
    );
    if (values.wait) return waitForRollout(client, rollout.id, values.json === true, true);
    if (values.json) printJson({ rollout });
    else
      process.stdout.write(
        `rollout ${rollout.id} of ${rollout.to} is being aborted; ${rollout.from ?? "nothing"} takes the traffic back\n`,
      );
    return 0;
  },
};
