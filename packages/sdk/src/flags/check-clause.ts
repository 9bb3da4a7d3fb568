import type { Clause } from "./model.ts";
import { OPERATOR_SPECS } from "./operators.ts";

export type Report = (path: string, message: string) => void;

/**
 * Checks what the schema cannot: the attribute an operator needs, how many values it
 * takes and their kind (a valid regex, version, range, CIDR block, ISO date), whether
 * `caseInsensitive` applies, and that referenced segments exist. Segments may not refer
 * to segments (`segments` is null there), which keeps membership free of cycles.
 */
export function checkClause(
  clause: Clause,
  path: string,
  segments: ReadonlySet<string> | null,
  report: Report,
): void {
  if (clause.operator === "segmentMatch") {
    checkSegmentMatch(clause, path, segments, report);
    return;
  }
  const spec = OPERATOR_SPECS[clause.operator];
  if (clause.attribute === undefined) {
    report(`${path}.attribute`, `operator ${clause.operator} needs the context attribute to test`);
  }
  if (spec.arity === "one" && clause.values.length !== 1) {
    report(
      `${path}.values`,
      `operator ${clause.operator} compares with exactly one value (got ${clause.values.length})`,
    );
  }
  clause.values.forEach((value, index) => {
    const problem = spec.check(value);
    if (problem) report(`${path}.values[${index}]`, `${JSON.stringify(value)} ${problem}`);
  });
  if (clause.caseInsensitive && !spec.textual) {
    report(
      `${path}.caseInsensitive`,
      `caseInsensitive applies only to text operators, not ${clause.operator}`,
    );
  }
}

function checkSegmentMatch(
  clause: Clause,
  path: string,
  segments: ReadonlySet<string> | null,
  report: Report,
): void {
  if (segments === null) {
    report(
      `${path}.operator`,
      "a segment's rules cannot refer to other segments; list their clauses instead",
    );
    return;
  }
  if (clause.attribute !== undefined) {
    report(`${path}.attribute`, "segmentMatch takes no attribute: segments match on the whole context");
  }
  if (clause.caseInsensitive)
    report(`${path}.caseInsensitive`, "caseInsensitive does not apply to segmentMatch");
  clause.values.forEach((value, index) => {
    if (typeof value !== "string" || !segments.has(value)) {
      const known = [...segments].join(", ") || "none";
      report(
        `${path}.values[${index}]`,
        `unknown segment ${JSON.stringify(value)}; defined segments: ${known}`,
      );
    }
  });
}
