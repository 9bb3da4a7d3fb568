import { describe, expect, it } from "vitest";
import { GantryError } from "../errors/index.ts";
import { onCallAt } from "../oncall/index.ts";
import {
  oncallEntrySpecs,
  oncallToInput,
  parseConfigText,
  policySpec,
  policyToInput,
  scheduleSpec,
  scheduleToInput,
  toPolicy,
  toSchedule,
} from "./index.ts";

const valid = `oncall:
  people:
    ana: { contacts: [{ notifier: mail, to: ana@example.com }] }
    bo: { contacts: [{ notifier: chat, mention: U1 }] }
  notifiers:
    mail: { type: smtp, host: smtp.example.com, from: gantry@example.com }
    chat: { type: slack, url: "https://hooks.slack.com/services/T/B/X" }
    pd: { type: pagerduty, routingKey: env:GANTRY_TEST_PD_KEY }
  schedules:
    primary:
      timeZone: Europe/London
      layers:
        - { name: weekly, participants: [ana, bo], turn: 1w, start: 2026-03-23, handoff: "09:00" }
        - name: office
          participants: [bo]
          turn: 12h
          start: 2026-03-23
          restrictions: [{ days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00" }]
  policies:
    web: { levels: [{ targets: [{ schedule: primary }], delay: 5m }, { targets: [{ person: ana }], delay: 10m }], repeat: 2 }
  routes: [{ service: web, policy: web }]
`;

function refusal(text: string): string {
  try {
    parseConfigText(text, "gantry.yaml");
  } catch (error) {
    if (error instanceof GantryError) return error.message;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("oncall in gantry.yaml", () => {
  it("reads people, notifiers, schedules and policies into the on-call model, secrets from the environment", () => {
    process.env.GANTRY_TEST_PD_KEY = "pd-key";
    const config = parseConfigText(valid, "gantry.yaml").oncall;
    expect(config.notifiers.pd).toMatchObject({
      routingKey: "pd-key",
      url: "https://events.pagerduty.com/v2/enqueue",
    });
    const schedule = toSchedule("primary", config.schedules.primary!);
    expect(schedule.layers[0]).toMatchObject({
      turn: { unit: "days", count: 7 },
      handoff: 540,
      timeZone: "Europe/London",
    });
    expect(schedule.layers[1]).toMatchObject({
      turn: { unit: "hours", count: 12 },
      restrictions: [{ days: [1, 2, 3, 4, 5], from: 540, to: 1020 }],
    });
    // Monday 30 March 2026, 10:00 BST: the office layer has bo; 18:00 BST the weekly one has bo too (turn 2).
    expect(onCallAt(schedule, Date.parse("2026-03-30T09:00:00Z"))).toEqual({ person: "bo", layer: "office" });
    expect(onCallAt(schedule, Date.parse("2026-03-30T07:59:00Z"))).toEqual({
      person: "ana",
      layer: "weekly",
    });
    expect(toPolicy("web", config.policies.web!)).toMatchObject({
      repeat: 2,
      levels: [{ delay: 300_000 }, { delay: 600_000 }],
    });
  });

  it("names unknown people, schedules, notifiers and policies, and missing secrets", () => {
    process.env.GANTRY_TEST_PD_KEY = "pd-key";
    const message = refusal(
      valid
        .replace("participants: [ana, bo]", "participants: [ana, zed]")
        .replace("{ person: ana }", "{ schedule: secondary }")
        .replace("policy: web }", "policy: api }")
        .replace("{ notifier: chat, mention: U1 }", "{ notifier: irc }"),
    );
    expect(message).toContain(
      'oncall.schedules.primary.layers[0].participants[1]: "zed" is not in oncall.people (ana, bo)',
    );
    expect(message).toContain(
      'oncall.policies.web.levels[1].targets[0].schedule: "secondary" is not in oncall.schedules (primary)',
    );
    expect(message).toContain('oncall.routes[0].policy: "api" is not in oncall.policies (web)');
    expect(message).toContain('oncall.people.bo.contacts[0].notifier: "irc" is not in oncall.notifiers');
    // Values are checked first: a bad turn, a missing secret.
    delete process.env.GANTRY_TEST_PD_KEY;
    const values = refusal(valid.replace("turn: 12h", "turn: 90m"));
    expect(values).toContain(
      'oncall.schedules.primary.layers[1].turn: a turn is weeks, days or hours, e.g. "1w", "2d" or "12h" (got "90m")',
    );
    expect(values).toContain(
      "oncall.notifiers.pd.routingKey: environment variable GANTRY_TEST_PD_KEY is not set",
    );
  });

  it("turns every entry back into its gantry.yaml form, which parses to the same entry", () => {
    process.env.GANTRY_TEST_PD_KEY = "pd-key";
    const config = parseConfigText(
      valid.replace("turn: 12h", "turn: 36h").replace('to: "17:00"', 'to: "24:00"'),
      "gantry.yaml",
    ).oncall;
    const schedule = config.schedules.primary!;
    expect(scheduleToInput(schedule).layers[1]).toEqual({
      name: "office",
      participants: ["bo"],
      turn: "36h",
      start: "2026-03-23",
      handoff: "09:00",
      restrictions: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "24:00" }],
    });
    expect(scheduleSpec.parse(scheduleToInput(schedule))).toEqual(schedule);
    expect(policySpec.parse(policyToInput(config.policies.web!))).toEqual(config.policies.web);
    expect(policyToInput(config.policies.web!).levels.map((l) => l.delay)).toEqual(["5m", "10m"]);
    for (const kind of ["person", "route"] as const) {
      const entry = kind === "person" ? config.people.ana! : config.routes[0]!;
      expect(oncallEntrySpecs[kind].parse(oncallToInput(kind, entry as never))).toEqual(entry);
    }
  });
});
