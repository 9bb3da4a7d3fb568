import { GantryError } from "../../errors/index.ts";
import type { ExperimentDetail, ExperimentSummary } from "../../experiments/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { ago, printJson, table } from "../render.ts";

const pct = (rate: number) => `${(rate * 100).toFixed(2)}%`;

export const experiments: Command = {
  name: "experiments",
  usage: "gantry experiments list | show NAME [--json]",
  summary: "Scientist experiments: matches, mismatches, exceptions, timings",
  help: `Applications run experiments with @gantry/sdk's science() and report each run.

  list        every experiment: runs, mismatch rate, last report
  show NAME   counts, errors and timeouts per behaviour, wall and CPU time percentiles
              (control vs candidates), and the newest mismatches with their values
${clientHelp}`,
  options: clientOptions,
  async run(values, positionals) {
    const client = clientFrom(values);
    const action = requirePositional(experiments, positionals, 0, "list|show");
    if (action === "list") {
      const { experiments: list } = await client.request<{ experiments: ExperimentSummary[] }>(
        "GET",
        "/api/v1/experiments",
      );
      if (values.json) printJson({ experiments: list });
      else {
        const rows = list.map((e) => [
          e.name,
          e.counts.runs,
          e.counts.matched,
          e.counts.mismatched,
          e.counts.ignored,
          pct(e.mismatchRate),
          ago(e.lastAt),
        ]);
        process.stdout.write(
          `${table(["EXPERIMENT", "RUNS", "MATCHED", "MISMATCHED", "IGNORED", "MISMATCH RATE", "LAST"], rows)}\n`,
        );
      }
      return 0;
    }
    if (action !== "show")
      throw new GantryError("BAD_REQUEST", `unknown action "${action}"\nusage: ${experiments.usage}`);
    const name = requirePositional(experiments, positionals, 1, "NAME");
    const { experiment } = await client.request<{ experiment: ExperimentDetail }>(
      "GET",
      `/api/v1/experiments/${encodeURIComponent(name)}`,
    );
    if (values.json) {
      printJson({ experiment });
      return 0;
    }
    process.stdout.write(`${render(experiment)}\n`);
    return 0;
  },
};

function render(e: ExperimentDetail): string {
  const c = e.counts;
  const lines = [
    `${e.name}: ${c.runs} runs, ${c.matched} matched, ${c.mismatched} mismatched (${pct(e.mismatchRate)}), ${c.ignored} ignored; last ${ago(e.lastAt)}`,
    "",
    table(
      ["BEHAVIOUR", "RUNS", "ERRORS", "TIMEOUTS", "P50 MS", "P99 MS", "CPU P50 MS", "CPU P99 MS"],
      Object.entries(c.behaviours).map(([name, b]) => {
        const t = e.timings[name];
        return [
          name,
          b.runs,
          b.errors,
          b.timeouts,
          t?.duration.p50.toFixed(3),
          t?.duration.p99.toFixed(3),
          t?.cpu.p50.toFixed(3),
          t?.cpu.p99.toFixed(3),
        ];
      }),
    ),
  ];
  if (e.mismatches.length > 0) {
    lines.push("", `newest mismatches (${e.mismatches.length} kept):`);
    for (const m of e.mismatches.slice(0, 10)) {
      const candidates = m.candidates.map((o) => `${o.name}=${JSON.stringify(o.error ?? o.value)}`).join(" ");
      lines.push(
        `  ${m.at}  control=${JSON.stringify(m.control.error ?? m.control.value)}  ${candidates}  context=${JSON.stringify(m.context)}`,
      );
    }
  }
  return lines.join("\n");
}
