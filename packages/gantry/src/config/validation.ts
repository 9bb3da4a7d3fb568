import type { z } from "zod";
import { type ErrorCode, GantryError } from "../errors/index.ts";

/** "services.demo.instances" from a zod issue path. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
    .join(".")
    .replace(/\.\[/g, "[");
}

/** One line per problem: the field path, what is wrong, and the value that was given. */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const path = issuePath(issue.path);
    const given = valueAt(input, issue.path);
    const shown = given === undefined ? "" : ` (got ${JSON.stringify(given)})`;
    return `${path || "(root)"}: ${issue.message}${shown}`;
  });
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Parses input with a schema or throws a GantryError that lists every problem with its field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  code: ErrorCode = "BAD_REQUEST",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = describeIssues(result.error, input);
  const first = result.error.issues[0];
  return fail(
    code,
    `${what} is invalid:\n  ${lines.join("\n  ")}`,
    first ? issuePath(first.path) : undefined,
    lines,
  );
}

function fail(code: ErrorCode, message: string, field: string | undefined, problems: string[]): never {
  throw new GantryError(
    code,
    message,
    field === undefined ? { details: { problems } } : { field, details: { problems } },
  );
}
