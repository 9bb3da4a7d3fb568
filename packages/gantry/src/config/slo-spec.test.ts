import { describe, expect, it } from "vitest";
import { GantryError } from "../errors/index.ts";
import { parseConfigText, sloSpec, sloToInput } from "./index.ts";

function problems(text: string): string {
  try {
    parseConfigText(text, "gantry.yaml");
  } catch (error) {
    if (error instanceof GantryError) return error.message;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

const base = "services:\n  web:\n    command: node server.js\n";

describe("SLOs in gantry.yaml", () => {
  it("reads an availability SLO with the workbook's burn-rate rules by default", () => {
    const config = parseConfigText(
      `${base}slos:\n  web-availability:\n    service: web\n    sli: { type: availability }\n    objective: 99.9%\n`,
      "gantry.yaml",
    );
    const slo = config.slos["web-availability"]!;
    expect(slo.objective).toBeCloseTo(0.999, 12);
    expect(slo.window).toEqual({ type: "rolling", duration: 28 * 86_400_000 });
    expect(slo.alerting.burnRates.map((r) => r.burnRate)).toEqual([14.4, 6, 3, 1]);
    expect(config.sli).toMatchObject({ interval: 10_000, coarse: 300_000, maxRows: 1_000_000 });
  });

  it("reads calendar windows, latency SLIs, SLAs and custom rules", () => {
    const config = parseConfigText(
      `${base}slos:
  web-latency:
    service: web
    sli: { type: latency, threshold: 250ms, version: v2 }
    objective: 0.99
    window: { calendar: month, timeZone: Europe/London }
    sla: { objective: 0.95 }
    alerting:
      burnRates: [{ severity: page, longWindow: 1m, shortWindow: 5s, burnRate: 10 }]
      thresholds: [{ severity: ticket, window: 5m, maxBadRatio: 5% }]
`,
      "gantry.yaml",
    );
    const slo = config.slos["web-latency"]!;
    expect(slo.sli).toEqual({ type: "latency", threshold: 250, version: "v2" });
    expect(slo.window).toEqual({ type: "calendar", unit: "month", timeZone: "Europe/London", weekStart: 1 });
    expect(slo.alerting.burnRates).toEqual([
      { severity: "page", longWindow: 60_000, shortWindow: 5000, burnRate: 10, for: 0 },
    ]);
    expect(slo.alerting.thresholds[0]).toMatchObject({ maxBadRatio: 0.05, minEvents: 100 });
    // What the store keeps parses back to the same SLO.
    expect(sloSpec.parse(sloToInput(slo))).toEqual(slo);
  });

  it("refuses an SLO looser than its SLA, naming the field and the fix", () => {
    const message = problems(
      `${base}slos:\n  web:\n    service: web\n    sli: { type: availability }\n    objective: 99%\n    sla: { objective: 99.5% }\n`,
    );
    expect(message).toContain(
      "slos.web.objective: 99% is looser than the SLA's 99.5%: the SLO is the early warning, so it must be at least as strict; raise objective to 0.995 or more, or lower sla.objective",
    );
  });

  it("refuses bad objectives, windows, thresholds and rules, each with its field and value", () => {
    const message = problems(`${base}slos:
  a:
    service: web
    sli: { type: latency, threshold: 300ms }
    objective: 99.9
    window: 5s
    alerting:
      burnRates: [{ severity: page, longWindow: 5m, shortWindow: 1h, burnRate: 14.4 }]
  b:
    service: web
    sli: { type: availability }
    objective: 0.999
    window: { calendar: fortnight }
  c:
    service: web
    sli: { type: availability }
    objective: 0.9
    window: 90d
`);
    expect(message).toContain('slos.a.objective: 99.9 is not a ratio; write 0.999 or "99.9%" (got 99.9)');
    expect(message).toContain(
      "slos.a.sli.threshold: a latency threshold must be a bound of the router's histogram",
    );
    expect(message).toContain('(got "300ms")');
    expect(message).toContain('slos.a.window: a window is a duration of at least a minute such as "28d"');
    expect(message).toContain(
      "slos.a.alerting.burnRates[0].shortWindow: shortWindow must be shorter than longWindow",
    );
    expect(message).toContain(
      'slos.b.window: a window is a duration such as "28d" (rolling) or {calendar: day|week|month|quarter|year',
    );
    // A rolling window longer than what the store keeps.
    expect(
      problems(
        `${base}slos:\n  c:\n    service: web\n    sli: { type: availability }\n    objective: 0.9\n    window: 90d\n`,
      ),
    ).toContain(
      "slos.c: needs 90d of SLI history but sli.retention keeps 35d; raise sli.retention or shorten the window",
    );
  });

  it("reads a ratio SLI of Prometheus counters, good or bad beside total", () => {
    const config = parseConfigText(
      `${base}slos:
  api-availability:
    service: web
    sli:
      type: ratio
      prometheus:
        url: http://127.0.0.1:9090
        good: 'sum(http_requests_total{job="api",code!~"5.."})'
        total: 'sum(http_requests_total{job="api"})'
    objective: 99.5%
  api-errors:
    service: web
    sli: { type: ratio, prometheus: { url: "http://prom:9090/", bad: 'errors_total{job="api"}', total: requests_total } }
    objective: 99%
`,
      "gantry.yaml",
    );
    const slo = config.slos["api-availability"]!;
    expect(slo.sli).toEqual({
      type: "ratio",
      prometheus: {
        url: "http://127.0.0.1:9090",
        good: 'sum(http_requests_total{job="api",code!~"5.."})',
        total: 'sum(http_requests_total{job="api"})',
      },
    });
    expect(config.slos["api-errors"]!.sli).toMatchObject({ prometheus: { bad: 'errors_total{job="api"}' } });
    // What the store keeps parses back to the same SLI.
    expect(sloSpec.parse(sloToInput(slo)).sli).toEqual(slo.sli);
  });

  it("refuses a ratio SLI that is not two counters from one Prometheus, naming the field and the fix", () => {
    const message = problems(`${base}slos:
  a:
    service: web
    sli: { type: ratio, prometheus: { url: "http://p:9090", good: 'sum(rate(x_total{code="200"}[5m]))', total: x_total } }
    objective: 0.99
  b:
    service: web
    sli: { type: ratio, prometheus: { url: "http://p:9090", good: g_total, bad: b_total, total: x_total } }
    objective: 0.99
  c:
    service: web
    sli: { type: ratio, prometheus: { url: "p:9090", total: "x_total[5m]" } }
    objective: 0.99
  d:
    service: web
    sli: { type: ratio }
    objective: 0.99
`);
    expect(message).toContain(
      'slos.a.sli.prometheus.good: rate() is not needed: Gantry takes the increase of the counter over each interval itself; give a counter: a series selector such as http_requests_total{job="api"}, or sum() of one (got "sum(rate(x_total{code=\\"200\\"}[5m]))")',
    );
    expect(message).toContain(
      "slos.b.sli.prometheus.bad: give good or bad, not both: Gantry counts the other as total minus it",
    );
    expect(message).toContain('slos.c.sli.prometheus.url: give an http:// or https:// URL (got "p:9090")');
    expect(message).toContain("slos.c.sli.prometheus.total: a range [5m] is not needed");
    expect(message).toContain(
      "slos.c.sli.prometheus.good: give good (the counter of good events) or bad (of bad ones) beside total",
    );
    expect(message).toContain(
      "slos.d.sli.prometheus: a ratio SLI reads its events from Prometheus: prometheus: {url, good (or bad), total}",
    );
  });

  it("checks the SLI storage settings against each other", () => {
    const message = problems("sli:\n  interval: 3s\n  coarse: 10s\n  fineFor: 5s\n");
    expect(message).toContain("sli.coarse: coarse must be a whole multiple of interval");
    expect(message).toContain("sli.fineFor: fineFor must be at least coarse");
  });
});
