import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseDocument } from "yaml";
import { loadConfigFile } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import type { ItemChange } from "../../flags/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions } from "../command.ts";
import { printJson } from "../render.ts";

const documentKeys = ["flags", "segments", "plans", "planAttribute"];

/** The flags document of a file: flags.yaml as a whole, or the `flags:` section of gantry.yaml. */
export function readFlagDocument(file: string): Record<string, unknown> {
  if (!existsSync(file))
    throw new GantryError("BAD_REQUEST", `no file ${file}; give one with -f FILE`, { field: "file" });
  const text = readFileSync(file, "utf8");
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new GantryError(
      "INVALID_CONFIG",
      `${file} is not valid YAML:\n  ${doc.errors.map((e) => e.message.split("\n")[0]).join("\n  ")}`,
    );
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  const isGantryYaml =
    basename(file) === "gantry.yaml" ||
    Object.keys(raw).some((k) => ["server", "services", "freezes"].includes(k)) ||
    hasEnvironments(raw.flags);
  if (isGantryYaml) {
    const { environments: _, ...flags } = loadConfigFile(file).flags;
    if (!flags.flags && !flags.segments && !flags.plans)
      throw new GantryError(
        "BAD_REQUEST",
        `${file} has no flags to apply (flags.flags, flags.segments or flags.plans)`,
        { field: "file" },
      );
    return flags;
  }
  const unknown = Object.keys(raw).filter((k) => !documentKeys.includes(k));
  if (unknown.length > 0)
    throw new GantryError(
      "INVALID_CONFIG",
      `${file}: unknown top-level key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; a flags file has ${documentKeys.join(", ")}`,
      {
        field: unknown[0]!,
      },
    );
  return raw;
}

/** gantry.yaml's `flags:` holds `environments` (and flags under `flags.flags`); flags.yaml's holds flags. */
function hasEnvironments(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as { environments?: unknown }).environments)
  );
}

/** The diff of an apply, one line an item and one a field. */
export function renderChanges(changes: ItemChange[]): string {
  const sign = { created: "+", updated: "~", deleted: "-" } as const;
  const lines: string[] = [];
  for (const c of changes) {
    const name = c.kind === "planAttribute" ? "planAttribute" : `${c.kind} ${c.key}`;
    lines.push(`${sign[c.change]} ${name}${c.change === "updated" ? "" : ` (${c.change})`}`);
    for (const f of c.fields) {
      const show = (v: unknown) => (v === undefined ? "(none)" : JSON.stringify(v));
      lines.push(`    ${f.path}: ${show(f.before)} → ${show(f.after)}`);
    }
  }
  return lines.join("\n");
}

export const apply: Command = {
  name: "apply",
  usage: "gantry apply [-f FILE] [--dry-run] [--prune] [--reason TEXT]",
  summary: "sync feature flags, segments and plans from flags.yaml (or gantry.yaml flags:)",
  help: `Reads FILE (default ./flags.yaml, else ./gantry.yaml's flags: section) and makes the
server's flags match it: each flag, segment and plan it defines replaces the one there
(a flag's environments it leaves out are off). Everything is validated before anything is
applied, and applied in one transaction; the diff is printed. Changes that alter a
protected environment need an admin token.

  -f, --file FILE   the flags file
  --dry-run         print the diff, change nothing
  --prune           also delete flags, segments and plans the file does not define
  --reason TEXT     recorded with every change in the audit trail
${clientHelp}`,
  options: {
    ...clientOptions,
    file: { type: "string", short: "f" },
    "dry-run": { type: "boolean" },
    prune: { type: "boolean" },
    reason: { type: "string" },
  },
  async run(values) {
    const file =
      (values.file as string | undefined) ?? (existsSync("flags.yaml") ? "flags.yaml" : "gantry.yaml");
    const document = readFlagDocument(file);
    const client = clientFrom(values);
    const result = await client.request<{
      changes: ItemChange[];
      revisions: Record<string, number>;
      dryRun: boolean;
    }>("POST", "/api/v1/flag-set/apply", {
      document,
      prune: values.prune === true,
      dryRun: values["dry-run"] === true,
      source: file,
      ...(typeof values.reason === "string" && { reason: values.reason }),
    });
    if (values.json) {
      printJson(result);
      return 0;
    }
    if (result.changes.length === 0) {
      process.stdout.write(`${file}: nothing to change\n`);
      return 0;
    }
    const n = result.changes.length;
    const what = `${n} change${n > 1 ? "s" : ""}`;
    process.stdout.write(`${renderChanges(result.changes)}\n`);
    process.stdout.write(
      result.dryRun
        ? `dry run: ${what} would be applied (run without --dry-run to apply)\n`
        : `applied ${what} from ${file}; revisions: ${Object.entries(result.revisions)
            .map(([e, r]) => `${e} ${r}`)
            .join(", ")}\n`,
    );
    return 0;
  },
};
