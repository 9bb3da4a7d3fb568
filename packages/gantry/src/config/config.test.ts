import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GantryError } from "../errors/index.ts";
import { gantryConfigJsonSchema, parseConfigText, parseDuration, resolveConfig } from "./index.ts";

describe("gantry.yaml", () => {
  it("fills every default a service leaves out", () => {
    const config = parseConfigText("services:\n  web:\n    command: node server.js\n", "gantry.yaml");
    expect(config.services.web).toMatchObject({
      instances: 1,
      healthCheck: { path: "/healthz", interval: 1000, deadline: 60_000 },
      strategy: { type: "rolling", maxSurge: 1, maxUnavailable: 0 },
    });
    expect(config.server.apiHost).toBe("127.0.0.1");
  });

  it("refuses a bad file whole, naming each field, the value and the fix", () => {
    const text =
      "services:\n  Web:\n    command: x\n  api:\n    command: y\n    instances: two\n    strategy: { type: rolling, maxSurge: 0, maxUnavailable: 0 }\n    healthCheck: { interval: 5q }\n";
    const error = captured(() => parseConfigText(text, "gantry.yaml"));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toContain("services.Web");
    expect(error.message).toContain(
      'services.api.instances: Invalid input: expected number, received string (got "two")',
    );
    expect(error.message).toContain(
      "services.api.strategy.maxSurge: maxSurge and maxUnavailable cannot both be 0",
    );
    expect(error.message).toContain('"5q" is not a duration');
  });

  it("refuses unknown keys, so a typo is not silently ignored", () => {
    expect(
      captured(() => parseConfigText("services:\n  web:\n    command: x\n    instance: 3\n", "g")).message,
    ).toContain("instance");
  });

  it("reports YAML syntax errors", () => {
    expect(captured(() => parseConfigText("services: [\n", "gantry.yaml")).message).toContain(
      "gantry.yaml is not valid YAML",
    );
  });

  it("layers defaults, file, environment and flags in that order", () => {
    const file = parseConfigText("server:\n  apiPort: 9000\n  routerPort: 9001\n", "g");
    const config = resolveConfig(file, { GANTRY_API_PORT: "9100" }, { routerPort: 9201 });
    expect(config.server).toMatchObject({ apiPort: 9100, routerPort: 9201, apiHost: "127.0.0.1" });
    expect(Object.isFrozen(config)).toBe(true);
    expect(captured(() => resolveConfig(file, { GANTRY_API_PORT: "x" }, {})).message).toContain(
      "GANTRY_API_PORT",
    );
  });

  it("parses durations", () => {
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("5 s")).toBeUndefined();
  });

  it("publishes a JSON Schema that matches the config schema (npm run schema)", () => {
    const published = JSON.parse(
      readFileSync(new URL("../../../../docs/gantry.schema.json", import.meta.url), "utf8"),
    );
    expect(published).toEqual(gantryConfigJsonSchema());
  });
});

function captured(fn: () => unknown): GantryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GantryError) return error;
    throw error;
  }
  throw new Error("expected a GantryError");
}
