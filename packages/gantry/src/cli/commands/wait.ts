import type { RolloutFailure, RolloutSummary } from "../../rollout/index.ts";
import type { ApiClient } from "../api-client.ts";
import { exitCodes } from "../exit-codes.ts";
import { printJson } from "../render.ts";

type Detailed = Omit<RolloutSummary, "failure"> & { failure: RolloutFailure | null };

/**
 * Follows a rollout to its end, printing each step; the exit code says whether the new
 * version serves, or, when `aborting`, whether the previous one does again.
 */
export async function waitForRollout(
  client: ApiClient,
  id: number,
  json: boolean,
  aborting = false,
): Promise<number> {
  let lastLine = "";
  for (;;) {
    const { rollout } = await client.request<{ rollout: Detailed }>("GET", `/api/v1/rollouts/${id}`);
    const line =
      rollout.status === "rolling_back"
        ? `rolling back: ${rollout.failure?.reason ?? ""}`
        : `step ${rollout.step}/${rollout.steps}: ${rollout.stepDescription ?? "done"}`;
    if (!json && line !== lastLine && rollout.status !== "succeeded") process.stderr.write(`${line}\n`);
    lastLine = line;
    if (rollout.status === "succeeded" || rollout.status === "failed" || rollout.status === "rolled_back") {
      if (json) printJson({ rollout });
      else report(rollout);
      const wanted = aborting ? rollout.status !== "succeeded" : rollout.status === "succeeded";
      return wanted ? exitCodes.ok : exitCodes.failed;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function report(rollout: Detailed): void {
  if (rollout.status === "succeeded") {
    process.stdout.write(`${rollout.to} serves all traffic (rollout ${rollout.id}, ${rollout.kind}).\n`);
    return;
  }
  const verdict = rollout.status === "failed" ? "failed" : "was rolled back";
  process.stdout.write(`rollout ${rollout.id} ${verdict}; ${rollout.from ?? "nothing"} serves traffic.\n`);
  if (rollout.failure) {
    process.stdout.write(`reason: ${rollout.failure.reason}\n`);
    for (const [instance, log] of Object.entries(rollout.failure.logs ?? {})) {
      process.stdout.write(
        `--- last log lines of ${instance} ---\n${log.split("\n").slice(-20).join("\n")}\n`,
      );
    }
  }
}
