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
        good: { metricSource: { type: Datadog, spec: { query: "sum:x" } } }
        total: { metricSource: { type: Datadog, spec: { query: "sum:y" } } }
  objectives: [{ target: 0.99 }]
`),
      ),
    ).toContain(
      'ratioMetric.total.metricSource.type "Datadog": Gantry reads SLIs from its own router (type: Gantry',
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

/** An SLO over an inline ratioMetric of the given good/bad/total metric sources. */
const prometheusSlo = (metrics: string, extra = "") =>
  slo(`  indicator:
    metadata: { name: i }
    spec:
      ratioMetric:
        counter: true
${metrics}
  objectives: [{ target: 0.99 }]
${extra}`);
const source = (query: string, spec = "") =>
  `{ metricSource: { type: Prometheus, spec: { query: '${query}'${spec} } } }`;

describe("OpenSLO import of Prometheus metric sources", () => {
  it("reads a ratio of Prometheus counters with the URL inline, from a DataSource, or given at import", () => {
    const inline = importOpenSlo(
      prometheusSlo(
        `        good: ${source('sum(http_requests_total{job="api",code!~"5.."})', ", url: http://prom:9090")}
        total: ${source('sum(http_requests_total{job="api"})', ", url: http://prom:9090")}`,
      ),
    );
    expect(inline[0]!.spec.sli).toEqual({
      type: "ratio",
      prometheus: {
        url: "http://prom:9090",
        good: 'sum(http_requests_total{job="api",code!~"5.."})',
        total: 'sum(http_requests_total{job="api"})',
      },
    });
    const viaDataSource = importOpenSlo(`apiVersion: openslo/v1
kind: DataSource
metadata: { name: prom }
spec:
  type: Prometheus
  connectionDetails: [{ url: "http://prometheus.example.com:9090" }]
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: errors }
spec:
  ratioMetric:
    counter: true
    bad: { metricSource: { metricSourceRef: prom, spec: { promql: 'x_total{code="500"}' } } }
    total: { metricSource: { metricSourceRef: prom, type: Prometheus, spec: { query: x_total } } }
---
${slo("  indicatorRef: errors\n  objectives: [{ target: 0.999 }]\n")}`);
    expect(viaDataSource[0]!.spec.sli).toEqual({
      type: "ratio",
      prometheus: { url: "http://prometheus.example.com:9090", bad: 'x_total{code="500"}', total: "x_total" },
    });
    const given = importOpenSlo(
      prometheusSlo(`        bad: ${source("b_total")}\n        total: ${source("t_total")}`),
      {
        prometheusUrl: "http://127.0.0.1:9090",
      },
    );
    expect(given[0]!.spec.sli).toMatchObject({
      prometheus: { url: "http://127.0.0.1:9090", bad: "b_total" },
    });
  });

  it("refuses what it cannot read from Prometheus, naming the OpenSLO field and the fix", () => {
    const url = ", url: http://prom:9090";
    expect(
      refusal(prometheusSlo(`        good: ${source("g_total")}\n        total: ${source("t_total")}`)),
    ).toContain(
      "SLO x: ratioMetric.good.metricSource names no Prometheus URL: give spec.url, a metricSourceRef to a DataSource with connectionDetails.url, or import with --prometheus-url URL",
    );
    expect(
      refusal(
        prometheusSlo(
          `        good: ${source("sum(rate(g_total[5m]))", url)}\n        total: ${source("t_total", url)}`,
        ),
      ),
    ).toContain(
      'ratioMetric.good.metricSource.spec.query "sum(rate(g_total[5m]))": rate() is not needed: Gantry takes the increase of the counter over each interval itself',
    );
    expect(
      refusal(
        prometheusSlo(
          `        good: ${source("g_total", url)}\n        total: ${source("t_total", url)}`,
        ).replace("counter: true", "counter: false"),
      ),
    ).toContain(
      "ratioMetric.counter is false: Gantry reads Prometheus counters and takes their increase itself",
    );
    expect(
      refusal(
        prometheusSlo(
          `        good: ${source("g_total", url)}\n        total: { metricSource: { type: Gantry, spec: { metric: requests } } }`,
        ),
      ),
    ).toContain(
      'ratioMetric.total.metricSource.type "Gantry": good (or bad) and total must all come from Prometheus',
    );
    expect(
      refusal(
        prometheusSlo(
          `        good: ${source("g_total", url)}\n        total: ${source("t_total", ", url: http://other:9090")}`,
        ),
      ),
    ).toContain("ratioMetric.good reads http://prom:9090 but total reads http://other:9090");
    expect(
      refusal(
        slo(`  indicator:
    metadata: { name: i }
    spec:
      thresholdMetric: ${source("lag", url)}
  objectives: [{ op: lte, value: 5, target: 0.99 }]
`),
      ),
    ).toContain("a thresholdMetric from Prometheus is not read");
  });
});
