import type { RolloutSummary } from "../../rollout/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson } from "../render.ts";

export const promote: Command = {
  name: "promote",
  usage: "gantry promote SERVICE [--reason TEXT]",
  summary: "end the pause or analysis a canary or phased rollout waits in; its next step follows",
  help: `A canary's steps may pause until promoted ({pause: promote}); promote ends that pause.
Given during a timed pause or an analysis, it ends that step early (an analysis that has
already failed has rolled the canary back: promote cannot undo that). Audited.

  --reason TEXT   why, for the audit trail
  --json          print the rollout as JSON
${clientHelp}`,
  options: { ...clientOptions, reason: { type: "string" } },
  async run(values, positionals) {
    const service = requirePositional(promote, positionals, 0, "SERVICE");
    const { rollout } = await clientFrom(values).request<{ rollout: RolloutSummary }>(
      "POST",
      `/api/v1/services/${encodeURIComponent(service)}/promote`,
      values.reason !== undefined ? { reason: values.reason } : {},
    );
    if (values.json) printJson({ rollout });
    else
      process.stdout.write(
        `rollout ${rollout.id} of ${service}: "${rollout.stepDescription}" ends; the next step follows\n`,
      );
    return 0;
  },
};
