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

  it("checks the SLI storage settings against each other", () => {
    const message = problems("sli:\n  interval: 3s\n  coarse: 10s\n  fineFor: 5s\n");
    expect(message).toContain("sli.coarse: coarse must be a whole multiple of interval");
    expect(message).toContain("sli.fineFor: fineFor must be at least coarse");
  });
});
