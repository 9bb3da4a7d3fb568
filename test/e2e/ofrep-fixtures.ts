import { expect } from "vitest";
import type { RunningGantry } from "./harness.ts";
import { call } from "./ofrep-support.ts";

/** One flag of each type, each served for a different reason in production. */
export const ofrepFlags: Record<string, object> = {
  "new-checkout": {
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    environments: {
      production: {
        enabled: true,
        rules: [{ clauses: [{ attribute: "country", operator: "in", values: ["DK"] }], variant: "on" }],
        fallthrough: { variant: "off" },
      },
      staging: { enabled: true, fallthrough: { variant: "on" } },
    },
  },
  banner: {
    type: "string",
    variants: { blue: "blue", red: "red" },
    defaultVariant: "blue",
    environments: {
      production: {
        enabled: true,
        fallthrough: {
          split: [
            { variant: "blue", weight: 50 },
            { variant: "red", weight: 50 },
          ],
        },
      },
    },
  },
  "max-items": {
    type: "number",
    variants: { ten: 10, twenty: 20.5 },
    defaultVariant: "ten",
    environments: { production: { enabled: true, fallthrough: { variant: "twenty" } } },
  },
  layout: {
    type: "object",
    variants: { grid: { columns: 3, tags: ["a", null] }, list: { columns: 1 } },
    defaultVariant: "list",
    environments: { production: { enabled: true, fallthrough: { variant: "grid" } } },
  },
  retired: {
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "on",
    environments: { production: { enabled: false, offVariant: "off" } },
  },
};

export async function createOfrepFlags(g: RunningGantry): Promise<void> {
  for (const [key, flag] of Object.entries(ofrepFlags)) {
    const created = await call(g, "POST", "/api/v1/flags", { body: { key, ...flag } });
    expect(created.status, created.text).toBe(201);
  }
}

export const ofrepConfig = "flags:\n  environments: [development, staging, production]\n";
