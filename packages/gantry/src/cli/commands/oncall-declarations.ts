import { readFileSync } from "node:fs";
import { parse as parseYaml, stringify } from "yaml";
import { type OncallKind, oncallCollections } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import type { OncallDeclaration } from "../../oncall/index.ts";
import type { ApiClient } from "../api-client.ts";
import { printJson, table } from "../render.ts";

/** The verbs `gantry oncall person|schedule|policy|route` takes before a name. */
export const declarationVerbs = ["list", "show", "set", "delete"] as const;

type Spec = Record<string, unknown>;

/**
 * `gantry oncall KIND list | show NAME | set NAME --file F | delete NAME`: people, schedules,
 * policies and routes through the API. `show` of a schedule is in oncall.ts (it has shifts).
 */
export async function declarationAction(
  client: ApiClient,
  kind: OncallKind,
  verb: (typeof declarationVerbs)[number],
  name: string | undefined,
  values: Record<string, unknown>,
): Promise<number> {
  const collection = oncallCollections[kind];
  const path = (n: string) => `/api/v1/oncall/${collection}/${encodeURIComponent(n)}`;
  const reason = values.reason === undefined ? "" : `?reason=${encodeURIComponent(values.reason as string)}`;
  const need = (): string => {
    if (name === undefined)
      throw new GantryError("BAD_REQUEST", `missing NAME\nusage: gantry oncall ${kind} ${verb} NAME`, {
        field: "NAME",
      });
    return name;
  };
  if (verb === "list") {
    const result = await client.request<Record<string, OncallDeclaration[]>>(
      "GET",
      `/api/v1/oncall/${collection}`,
    );
    if (values.json) printJson(result);
    else process.stdout.write(`${listTable(kind, result[collection] ?? [])}\n`);
    return 0;
  }
  if (verb === "show") {
    const result = await client.request<Record<string, unknown> & { referencedBy: string[] }>(
      "GET",
      path(need()),
    );
    if (values.json) printJson(result);
    else process.stdout.write(declarationText(result[kind] as OncallDeclaration, result.referencedBy));
    return 0;
  }
  if (verb === "set") {
    const n = need();
    const spec = readSpec(values.file as string | undefined, kind);
    const result = await client.request<Record<string, unknown> & { created: boolean }>(
      "PUT",
      `${path(n)}${reason}`,
      spec,
    );
    if (values.json) printJson(result);
    else process.stdout.write(`${result.created ? "created" : "replaced"} ${kind} ${n}\n`);
    return 0;
  }
  const n = need();
  const result = await client.request<{ deleted: string }>("DELETE", `${path(n)}${reason}`);
  if (values.json) printJson(result);
  else process.stdout.write(`deleted ${kind} ${n}\n`);
  return 0;
}

/** The entry in a YAML or JSON file (`-`: standard input), as written under gantry.yaml `oncall:`. */
function readSpec(file: string | undefined, kind: OncallKind): unknown {
  if (!file)
    throw new GantryError(
      "BAD_REQUEST",
      `give --file FILE (YAML or JSON): the ${kind} as written under gantry.yaml oncall.${oncallCollections[kind]}${kind === "route" ? "[]" : ".NAME"}; see docs/oncall.md`,
      { field: "file" },
    );
  try {
    return parseYaml(readFileSync(file === "-" ? 0 : file, "utf8"));
  } catch (error) {
    throw new GantryError("BAD_REQUEST", `cannot read ${file}: ${(error as Error).message}`, {
      field: "file",
    });
  }
}

/** A declaration as YAML under a heading naming its source, and what names it. */
export function declarationText(d: OncallDeclaration, referencedBy: string[]): string {
  const origin =
    d.source === "config"
      ? "gantry.yaml"
      : `API, updated by ${d.updatedBy} at ${d.updatedAt}${d.createdAt !== d.updatedAt ? `, created by ${d.createdBy} at ${d.createdAt}` : ""}`;
  const lines = [`${d.kind} ${d.name ?? "(unnamed)"} (${origin})`, stringify(d.spec).trimEnd()];
  if (referencedBy.length > 0) lines.push(`named by: ${referencedBy.join("; ")}`);
  return `${lines.join("\n")}\n`;
}

function listTable(kind: OncallKind, entries: OncallDeclaration[]): string {
  const source = (d: OncallDeclaration) => (d.source === "config" ? "gantry.yaml" : "api");
  if (kind === "person")
    return table(
      ["NAME", "SOURCE", "CONTACTS"],
      entries.map((d) => [
        d.name,
        source(d),
        ((d.spec as Spec).contacts as Spec[])
          .map((c) => `${c.notifier}${c.to ? `:${c.to}` : c.mention ? `:${c.mention}` : ""}`)
          .join(", "),
      ]),
    );
  if (kind === "schedule")
    return table(
      ["NAME", "SOURCE", "TIME ZONE", "LAYERS"],
      entries.map((d) => {
        const s = d.spec as Spec;
        const layers = (s.layers as Spec[]).map(
          (l) => `${l.name} (${(l.participants as string[]).join(", ")}; ${l.turn})`,
        );
        return [d.name, source(d), s.timeZone as string, layers.join(", ")];
      }),
    );
  if (kind === "policy")
    return table(
      ["NAME", "SOURCE", "REPEAT", "LEVELS"],
      entries.map((d) => {
        const p = d.spec as Spec;
        const levels = (p.levels as Spec[]).map(
          (l, i) =>
            `L${i + 1} ${(l.targets as Spec[]).map((t) => ("person" in t ? t.person : `schedule:${t.schedule}`)).join("+")} ${l.delay}`,
        );
        return [d.name, source(d), p.repeat as number, levels.join(" → ")];
      }),
    );
  return table(
    ["#", "NAME", "SOURCE", "SERVICE", "SEVERITIES", "POLICY"],
    entries.map((d, i) => {
      const r = d.spec as Spec;
      return [
        i + 1,
        d.name,
        source(d),
        (r.service as string | undefined) ?? "any",
        (r.severities as string[]).join(","),
        r.policy as string,
      ];
    }),
  );
}
