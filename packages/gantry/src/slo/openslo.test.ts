import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GantryError } from "../errors/index.ts";
import { importOpenSlo } from "./index.ts";

const example = readFileSync(new URL("../../../../examples/openslo/demo-slos.yaml", import.meta.url), "utf8");

function refusal(text: string): string {
  try {
    importOpenSlo(text);
  } catch (error) {
    if (error instanceof GantryError) return error.message;
    throw error;
  }
  throw new Error("expected a refusal");
}

const slo = (spec: string) => `apiVersion: openslo/v1
kind: SLO
metadata: { name: x }
spec:
  service: demo
${spec}`;

const ratio = `  indicator:
    metadata: { name: i }
    spec:
      ratioMetric:
        good: { metricSource: { type: Gantry, spec: { metric: good-requests } } }
        total: { metricSource: { type: Gantry, spec: { metric: requests } } }
`;

describe("OpenSLO import", () => {
  it("reads SLOs with referenced and inline SLIs, calendar and rolling windows, and alert policies", () => {
    const [availability, latency] = importOpenSlo(example);
    expect(availability!.name).toBe("demo-imported-availability");
    expect(availability!.spec).toMatchObject({
      service: "demo",
      sli: { type: "availability" },
      objective: 0.995,
      window: { type: "calendar", unit: "month", timeZone: "Europe/London" },
    });
    expect(availability!.spec.alerting.burnRates).toEqual([
      { severity: "page", longWindow: 3_600_000, shortWindow: 0, burnRate: 14.4, for: 120_000 },
      { severity: "ticket", longWindow: 86_400_000, shortWindow: 0, burnRate: 3, for: 1_800_000 },
    ]);
    expect(latency!.spec).toMatchObject({
      sli: { type: "latency", threshold: 250 },
      objective: 0.99,
      window: { type: "rolling", duration: 28 * 86_400_000 },
    });
    // Without alert policies an SLO gets the workbook's rules.
    expect(latency!.spec.alerting.burnRates).toHaveLength(4);
  });

  it("refuses what it cannot honour, naming the field and the fix", () => {
    expect(
      refusal(slo(`${ratio}  budgetingMethod: Timeslices\n  objectives: [{ target: 0.99 }]\n`)),
    ).toContain('SLO x: spec.budgetingMethod "Timeslices": Gantry budgets by occurrences');
    expect(refusal(slo(`${ratio}  objectives: [{ target: 0.99 }, { target: 0.9 }]\n`))).toContain(
      "a Gantry SLO has exactly one: split it into one SLO per objective",
    );
    expect(
      refusal(
        slo(`  indicator:
    metadata: { name: i }
    spec:
      ratioMetric:
        good: { metricSource: { type: Prometheus, spec: { query: "sum(x)" } } }
        total: { metricSource: { type: Prometheus, spec: { query: "sum(y)" } } }
  objectives: [{ target: 0.99 }]
`),
      ),
    ).toContain(
      'ratioMetric.total.metricSource.type "Prometheus": Gantry measures SLIs from its own router; write type: Gantry',
    );
    expect(refusal(slo(`${ratio}  objectives: [{ target: 1.5 }]\n`))).toContain("SLO x:\n  objective:");
    expect(refusal(slo(`${ratio}  objectives: [{ target: 0.99 }]\n  alertPolicies: [nope]\n`))).toContain(
      'spec.alertPolicies[0] names "nope", which is no AlertPolicy in the file',
    );
    expect(refusal("apiVersion: openslo/v2alpha\nkind: SLO\nmetadata: { name: x }\nspec: {}\n")).toContain(
      'Gantry reads OpenSLO apiVersion "openslo/v1"',
    );
    expect(refusal("kind: [\n")).toContain("not valid YAML");
    expect(refusal(example.replace(/kind: SLO\n/g, "kind: Service\n"))).toContain("no object of kind SLO");
  });
});
