import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../audit/index.ts";
import { type OncallKind, oncallEntrySpecs, parseConfigText, toSchedule } from "../config/index.ts";
import { refusal } from "../errors/test-refusal.ts";
import { type AlertInput, IncidentService, IncidentStore } from "../incidents/index.ts";
import type { Store } from "../store/index.ts";
import { testDatabases } from "../store/test-databases.ts";
import { OncallDirectory, Pager } from "./index.ts";

const config = parseConfigText(
  `oncall:
  people:
    ana: { contacts: [{ notifier: hook }] }
    lead: { contacts: [{ notifier: hook }, { notifier: mail, to: lead@example.com }] }
  notifiers:
    hook: { type: webhook, url: "http://127.0.0.1:9/hook", secret: s }
    mail: { type: smtp, host: 127.0.0.1, from: gantry@example.com }
  schedules:
    primary:
      layers: [{ name: weekly, participants: [ana, lead], turn: 1w, start: 2026-01-05 }]
  policies:
    main: { levels: [{ targets: [{ schedule: primary }], delay: 5m }] }
  routes: [{ service: web, severities: [high], policy: main }]
`,
  "gantry.yaml",
).oncall;

const inputs = {
  zoe: { contacts: [{ notifier: "mail", to: "zoe@example.com" }, { notifier: "hook" }] },
  nights: {
    timeZone: "Europe/Berlin",
    layers: [
      {
        name: "fortnight",
        participants: ["ana", "zoe"],
        turn: "2w",
        start: "2026-03-02",
        handoff: "08:30",
        restrictions: [{ days: ["mon", "fri"], from: "22:00", to: "06:00" }],
      },
      { name: "halves", participants: ["zoe"], turn: "12h", start: "2026-03-02", timeZone: "UTC" },
    ],
    overrides: [{ person: "lead", from: "2026-03-10T00:00:00Z", to: "2026-03-11T00:00:00Z" }],
  },
  escalate: {
    levels: [
      { targets: [{ schedule: "nights" }, { person: "lead" }], delay: "90s" },
      { targets: [{ person: "zoe" }], delay: "1h30m" },
    ],
    repeat: 2,
  },
  payments: { service: "payments", policy: "escalate" },
};

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe.each(testDatabases)("on-call entries made through the API, on $name", ({ open }) => {
  async function setup() {
    const store = await open();
    stores.push(store);
    let now = Date.parse("2026-03-09T12:00:00Z");
    const clock = () => new Date(now);
    const audit = new AuditLog(store.db, clock);
    const directory = new OncallDirectory({ spec: config, db: store.db, audit, now: clock });
    await directory.load();
    const put = <K extends OncallKind>(kind: K, name: string, input: unknown, actor = "admin") =>
      directory.put(kind, name, oncallEntrySpecs[kind].parse(input) as never, actor, "test");
    return { store, audit, directory, put, clock, advance: (ms: number) => (now += ms) };
  }

  it("keeps people, schedules, policies and routes in their gantry.yaml form across a restart, beside gantry.yaml's", async () => {
    const t = await setup();
    expect(await t.put("person", "zoe", inputs.zoe)).toMatchObject({ created: true });
    await t.put("schedule", "nights", inputs.nights);
    await t.put("policy", "escalate", inputs.escalate);
    await t.put("route", "payments", inputs.payments);
    const replaced = await t.put("person", "zoe", { contacts: [{ notifier: "hook" }] }, "ops");
    expect(replaced).toMatchObject({ created: false, declaration: { updatedBy: "ops", createdBy: "admin" } });

    const again = new OncallDirectory({ spec: config, db: t.store.db, audit: t.audit, now: t.clock });
    await again.load();
    expect(again.declaration("schedule", "nights")).toMatchObject({
      source: "api",
      spec: {
        ...inputs.nights,
        layers: [inputs.nights.layers[0], { ...inputs.nights.layers[1], handoff: "09:00", restrictions: [] }],
      },
    });
    // Shown as gantry.yaml would say it; durations in their plainest form.
    expect(again.declaration("policy", "escalate").spec).toEqual({
      ...inputs.escalate,
      levels: [inputs.escalate.levels[0], { ...inputs.escalate.levels[1], delay: "90m" }],
    });
    expect(again.declaration("person", "zoe").spec).toEqual({ contacts: [{ notifier: "hook" }] });
    expect(again.declarations("schedule").map((d) => `${d.name} ${d.source}`)).toEqual([
      "primary config",
      "nights api",
    ]);
    // The model the pager reads is the one gantry.yaml would give for the same entry.
    expect(again.schedules().get("nights")).toEqual(
      toSchedule("nights", oncallEntrySpecs.schedule.parse(inputs.nights)),
    );
    expect(again.policies().get("escalate")).toEqual({
      name: "escalate",
      repeat: 2,
      levels: [
        { targets: [{ schedule: "nights" }, { person: "lead" }], delay: 90_000 },
        { targets: [{ person: "zoe" }], delay: 5_400_000 },
      ],
    });
    expect(again.contacts("zoe")).toEqual([{ notifier: "hook" }]);
    // gantry.yaml's routes are tried first, then the API's by name.
    expect(again.routes().map((r) => `${r.source} ${r.name} ${r.spec.policy}`)).toEqual([
      "config null main",
      "api payments escalate",
    ]);
    expect(again.policyFor({ service: "payments", severity: "critical" })?.name).toBe("escalate");
    expect(again.policyFor({ service: "web", severity: "high" })?.name).toBe("main");
    expect(again.problems()).toEqual([]);

    const events = await t.audit.query({ subjectPrefix: "" });
    expect(events.map((e) => `${e.actor} ${e.action} ${e.subject} ${e.reason}`)).toEqual([
      "admin oncall.person.declared person/zoe test",
      "admin oncall.schedule.declared schedule/nights test",
      "admin oncall.policy.declared policy/escalate test",
      "admin oncall.route.declared route/payments test",
      "ops oncall.person.declared person/zoe test",
    ]);
    expect(events.at(-1)!.data).toEqual({ spec: { contacts: [{ notifier: "hook" }] }, previous: inputs.zoe });
  });

  it("refuses gantry.yaml's names, names that exist nowhere, and deleting what is still named", async () => {
    const t = await setup();
    const declared = await refusal(t.put("schedule", "primary", inputs.nights));
    expect(declared.code).toBe("CONFLICT");
    expect(declared.message).toContain("declared in gantry.yaml (oncall.schedules.primary); change it there");
    expect((await refusal(t.directory.delete("person", "ana", "admin"))).message).toContain(
      "remove it there",
    );

    const unknown = await refusal(t.put("schedule", "nights", inputs.nights));
    expect(unknown.code).toBe("BAD_REQUEST");
    expect(unknown.field).toBe("layers[0].participants[1]");
    expect(unknown.message).toContain(
      `layers[0].participants[1]: "zoe" is not a known person (ana, lead); add it in gantry.yaml (oncall.people) or with PUT /api/v1/oncall/people/zoe`,
    );
    const noNotifier = await refusal(
      t.put("person", "zoe", { contacts: [{ notifier: "sms" }, { notifier: "mail" }] }),
    );
    expect(noNotifier.message).toContain(`contacts[0].notifier: "sms" is not a known notifier (hook, mail)`);
    expect(noNotifier.message).toContain("contacts[1].to: an email contact needs to: ADDRESS");
    expect(await t.audit.query()).toEqual([]);

    await t.put("person", "zoe", inputs.zoe);
    await t.put("schedule", "nights", inputs.nights);
    await t.put("policy", "escalate", inputs.escalate);
    await t.put("route", "payments", inputs.payments);
    await t.directory.addOverride(
      { schedule: "primary", person: "zoe", from: "2026-03-09T00:00:00Z", to: "2026-03-10T00:00:00Z" },
      "admin",
    );
    const held = await refusal(t.directory.delete("person", "zoe", "admin"));
    expect(held.code).toBe("CONFLICT");
    expect(held.message).toBe(
      `person "zoe" is still named by: schedule nights (layers[0].participants[1], layers[1].participants[0]); policy escalate (levels[1].targets[0].person); override 1 (zoe on call for primary until 2026-03-10T00:00:00.000Z); change or delete those first`,
    );
    expect((await refusal(t.directory.delete("policy", "escalate", "admin"))).message).toContain(
      "still named by: route payments (policy)",
    );
    expect((await refusal(t.directory.delete("schedule", "nights", "admin"))).message).toContain(
      "policy escalate (levels[0].targets[0].schedule)",
    );
    expect((await refusal(t.directory.delete("route", "nope", "admin"))).code).toBe("NOT_FOUND");

    // Undone in order, each deletion is allowed once nothing names it; an ended override holds nothing.
    await t.directory.delete("route", "payments", "admin");
    await t.directory.delete("policy", "escalate", "admin");
    await t.directory.delete("schedule", "nights", "admin", "gone");
    t.advance(86_400_000);
    await t.directory.delete("person", "zoe", "admin");
    expect(t.directory.declarations("person").map((d) => d.name)).toEqual(["ana", "lead"]);
    expect((await t.audit.query({ action: "oncall.schedule.deleted" }))[0]).toMatchObject({
      reason: "gone",
      data: { spec: { timeZone: "Europe/Berlin" } },
    });
  });

  it("lets gantry.yaml win a name it declares later, and reports API entries that name what it dropped", async () => {
    const t = await setup();
    await t.put("person", "zoe", inputs.zoe);
    await t.put("policy", "leads", { levels: [{ targets: [{ person: "lead" }], delay: "1m" }] });
    const later = parseConfigText(
      `oncall:
  people:
    ana: { contacts: [{ notifier: hook }] }
    zoe: { contacts: [{ notifier: hook }] }
  notifiers:
    hook: { type: webhook, url: "http://127.0.0.1:9/hook", secret: s }
`,
      "gantry.yaml",
    ).oncall;
    const restarted = new OncallDirectory({ spec: later, db: t.store.db, audit: t.audit, now: t.clock });
    await restarted.load();
    expect(restarted.declarations("person").map((d) => `${d.name} ${d.source}`)).toEqual([
      "ana config",
      "zoe config",
    ]);
    expect(restarted.problems()).toEqual([
      'person "zoe" made through the API is ignored: gantry.yaml now declares one of that name (oncall.people.zoe)',
      'policy "leads" (API): "lead" is not a known person (ana, zoe); add it in gantry.yaml (oncall.people) or with PUT /api/v1/oncall/people/lead',
    ]);
  });

  it("lets an escalation under way finish by the policy it started with, whatever happens to the policy and its route", async () => {
    const t = await setup();
    const incidents = new IncidentService({
      store: new IncidentStore(t.store.db),
      audit: t.audit,
      now: t.clock,
      changesBefore: 0,
    });
    const pager = new Pager({
      db: t.store.db,
      directory: t.directory,
      incidents,
      notifiers: new Map(),
      now: t.clock,
      link: (id) => `http://gantry/incidents/${id}`,
      delivery: { attempts: 1, backoff: 1000, maxBackoff: 1000, timeout: 1000 },
    });
    const alert = (dedupKey: string): AlertInput => ({
      source: "api",
      key: dedupKey,
      dedupKey,
      status: "firing",
      severity: "critical",
      summary: "payments down",
      service: "payments",
      details: {},
    });
    await t.put("person", "zoe", inputs.zoe);
    await t.put("policy", "two", {
      levels: [
        { targets: [{ person: "ana" }], delay: "1m" },
        { targets: [{ person: "zoe" }], delay: "1m" },
      ],
    });
    await t.put("route", "payments", { service: "payments", severities: ["critical"], policy: "two" });
    await incidents.ingest(alert("first"));
    await pager.plan();
    const paged = async (incident: number) =>
      (await pager.pages(incident)).map((p) => `L${p.level + 1} ${p.person} ${p.notifier}`);
    expect(await paged(1)).toEqual(["L1 ana hook"]);

    // Mid-escalation the policy loses its second level and then goes away with its route.
    await t.put("policy", "two", { levels: [{ targets: [{ person: "lead" }], delay: "1m" }] });
    const held = await refusal(t.directory.delete("person", "zoe", "admin"));
    expect(held.message).toContain("the escalation of incident 1 (policy two) under way");
    await t.directory.delete("route", "payments", "admin");
    await t.directory.delete("policy", "two", "admin");
    t.advance(61_000);
    await pager.plan();
    expect(await paged(1)).toEqual(["L1 ana hook", "L2 zoe mail", "L2 zoe hook"]);
    // A new incident finds no route now, and pages nobody.
    await incidents.ingest(alert("second"));
    await pager.plan();
    expect(await paged(2)).toEqual([]);
    // Once acknowledged, the escalation no longer holds zoe.
    await incidents.acknowledge(1, "ana");
    await t.directory.delete("person", "zoe", "admin");
  });
});
