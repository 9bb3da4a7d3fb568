import { type Clause, OPERATORS, type Operator } from "@gantry/sdk";
import { GantryError } from "../errors/index.ts";

/**
 * The short forms the flags CLI takes for what is JSON in the API:
 *   clause    `country in DK,SE` · `not email endsWith/i @acme.com` · `age gte 18` ·
 *             `segment beta` · `plan in ["pro","team"]` (a JSON array for values with commas,
 *             numbers or booleans)
 *   split     `on=25,off=75`
 *   variant   `NAME=VALUE` (VALUE as JSON, or as text for string flags)
 */

const aliases: Record<string, Operator> = {
  "=": "equals",
  "==": "equals",
  "<": "lt",
  "<=": "lte",
  ">": "gt",
  ">=": "gte",
};
const byLowerCase = new Map(OPERATORS.map((o) => [o.toLowerCase(), o]));
const numeric = new Set<Operator>(["lt", "lte", "gt", "gte"]);

function bad(field: string, message: string): never {
  throw new GantryError("BAD_REQUEST", message, { field });
}

export function parseClause(text: string, field = "--if"): Clause {
  const words = text.trim().split(/\s+/);
  let negate = false;
  if (words[0] === "not") {
    negate = true;
    words.shift();
  }
  if (words[0] === "segment") {
    if (words.length < 2) bad(field, `"${text}": name the segment, e.g. "segment beta"`);
    const values = splitValues(words.slice(1).join(" "), field);
    return { operator: "segmentMatch", values, ...(negate && { negate }) };
  }
  if (words.length < 3)
    bad(
      field,
      `"${text}" is not a clause; write ATTRIBUTE OPERATOR VALUES, e.g. "country in DK,SE" or "segment beta"`,
    );
  const [attribute, opText] = [words[0]!, words[1]!];
  const caseInsensitive = opText.endsWith("/i");
  const name = caseInsensitive ? opText.slice(0, -2) : opText;
  const operator = aliases[name] ?? byLowerCase.get(name.toLowerCase());
  if (!operator)
    bad(
      field,
      `"${text}": unknown operator "${name}"; use one of: ${OPERATORS.filter((o) => o !== "segmentMatch").join(", ")}`,
    );
  const raw = text
    .trim()
    .replace(/^not\s+/, "")
    .slice(attribute.length)
    .trimStart()
    .slice(opText.length)
    .trim();
  let values: (string | number | boolean)[] = splitValues(raw, field);
  if (numeric.has(operator)) {
    values = values.map((v) => {
      const n = typeof v === "number" ? v : Number(v);
      if (!Number.isFinite(n))
        bad(field, `"${text}": ${operator} compares numbers; ${JSON.stringify(v)} is not one`);
      return n;
    });
  }
  return {
    attribute,
    operator,
    values,
    ...(negate && { negate }),
    ...(caseInsensitive && { caseInsensitive }),
  };
}

function splitValues(raw: string, field: string): (string | number | boolean)[] {
  if (raw.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      bad(field, `${raw} is not a JSON array`);
    }
    if (!Array.isArray(parsed) || parsed.some((v) => !["string", "number", "boolean"].includes(typeof v)))
      bad(field, `${raw}: give an array of strings, numbers or booleans`);
    return parsed as (string | number | boolean)[];
  }
  const values = raw
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (values.length === 0) bad(field, "give at least one value");
  return values;
}

/** A clause written back in the CLI's short form. */
export function formatClause(c: Clause): string {
  const not = c.negate ? "not " : "";
  const plain = numeric.has(c.operator) || c.values.every((v) => typeof v === "string" && !v.includes(","));
  const values = plain ? c.values.join(",") : JSON.stringify(c.values);
  if (c.operator === "segmentMatch") return `${not}segment ${values}`;
  return `${not}${c.attribute} ${c.operator}${c.caseInsensitive ? "/i" : ""} ${values}`;
}

/** `on=25,off=75` → [{variant: "on", weight: 25}, {variant: "off", weight: 75}]. */
export function parseSplit(text: string, field = "--rollout"): { variant: string; weight: number }[] {
  return text.split(",").map((part) => {
    const [variant, weight] = part.split("=").map((p) => p.trim());
    const n = Number(weight);
    if (!variant || weight === undefined || weight === "" || !Number.isFinite(n))
      bad(field, `"${part}" is not VARIANT=PERCENT; write e.g. ${field} on=25,off=75`);
    return { variant, weight: n };
  });
}

export function formatServe(serve: {
  variant?: string;
  split?: { variant: string; weight: number }[];
  bucketBy?: string;
}): string {
  if (serve.variant !== undefined) return serve.variant;
  const split = (serve.split ?? []).map((s) => `${s.variant}=${s.weight}%`).join(" ");
  return `split ${split}${serve.bucketBy && serve.bucketBy !== "targetingKey" ? ` by ${serve.bucketBy}` : ""}`;
}

/** `NAME=VALUE`: the value as text for a string flag, else as JSON. */
export function parseVariant(text: string, type: string, field = "--variant"): [string, unknown] {
  const at = text.indexOf("=");
  if (at <= 0)
    bad(
      field,
      `"${text}" is not NAME=VALUE; write e.g. --variant blue=${type === "string" ? "blue" : "true"}`,
    );
  const name = text.slice(0, at);
  const raw = text.slice(at + 1);
  if (type === "string") return [name, raw];
  try {
    return [name, JSON.parse(raw)];
  } catch {
    return bad(
      field,
      `${name}: ${JSON.stringify(raw)} is not JSON; a ${type} flag's variant values are JSON (e.g. ${type === "number" ? "42" : type === "boolean" ? "true" : '{"limit":10}'})`,
    );
  }
}
