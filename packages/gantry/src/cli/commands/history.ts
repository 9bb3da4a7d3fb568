import type { RolloutSummary } from "../../rollout/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson, table } from "../render.ts";

type Entry = RolloutSummary & { release: { checksum: string; env: Record<string, string> } | null };

export const history: Command = {
  name: "history",
  usage: "gantry history SERVICE [--json]",
  summary: "what was released when, by whom, and the outcome",
  help: `Lists the rollouts of SERVICE, newest first: when, kind (deploy or rollback), versions,
strategy, who and why, how it ended, and the release's env.

  --json   {"rollouts": [...]} as documented in docs/cli.md
${clientHelp}`,
  options: clientOptions,
  async run(values, positionals) {
    const service = requirePositional(history, positionals, 0, "SERVICE");
    const client = clientFrom(values);
    const { rollouts } = await client.request<{ rollouts: Entry[] }>(
      "GET",
      `/api/v1/services/${encodeURIComponent(service)}/rollouts`,
    );
    if (values.json) {
      printJson({ rollouts });
      return 0;
    }
    const rows = rollouts.map((r) => [
      r.id,
      r.createdAt.replace("T", " ").slice(0, 19),
      r.kind,
      `${r.from ?? "-"} → ${r.to}`,
      r.strategy,
      r.status,
      r.actor,
      envText(r.release?.env),
      r.failure ?? r.reason ?? "",
    ]);
    process.stdout.write(
      `${table(["ID", "WHEN (UTC)", "KIND", "VERSIONS", "STRATEGY", "OUTCOME", "BY", "ENV", "REASON"], rows)}\n`,
    );
    return 0;
  },
};

function envText(env: Record<string, string> | undefined): string {
  if (!env || Object.keys(env).length === 0) return "-";
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}
