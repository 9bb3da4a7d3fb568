import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfigText, scheduleSpec, toSchedule } from "../../packages/gantry/src/config/index.ts";
import { onCallAt } from "../../packages/gantry/src/oncall/index.ts";
import { constantLoad, demoApp, gantry, type RunningGantry, up, waitUntil, webConfig } from "./harness.ts";
import { smtpReceiver, webhookReceiver } from "./paging-receivers.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function run(g: RunningGantry, args: string[]) {
  const result = await gantry(g.dataDir, args);
  expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

function oncallConfig(hookUrl: string, smtpPort: number, policy: string): string {
  return `oncall:
  people:
    ana: { contacts: [{ notifier: hook }, { notifier: mail, to: ana@example.com }] }
    bo: { contacts: [{ notifier: hook }, { notifier: mail, to: bo@example.com }] }
    cy: { contacts: [{ notifier: hook }, { notifier: mail, to: cy@example.com }] }
    lead: { contacts: [{ notifier: hook }, { notifier: mail, to: lead@example.com }] }
  notifiers:
    hook: { type: webhook, url: ${hookUrl}, secret: s3cret }
    mail: { type: smtp, host: 127.0.0.1, port: ${smtpPort}, from: gantry@example.com }
  schedules:
    primary:
      timeZone: America/New_York
      layers:
        - { name: weekly, participants: [ana, bo], turn: 1w, start: 2026-01-05, handoff: "09:00" }
        - name: nights
          participants: [cy]
          turn: 1d
          start: 2026-01-05
          restrictions: [{ from: "22:00", to: "06:00" }]
  policies:
${policy}
  routes: [{ policy: main }]
  delivery: { backoff: 200ms, maxBackoff: 1s }
`;
}

describe("on-call paging", () => {
  it("pages the person on call when a bad version burns the SLO, escalates unacknowledged, and tells them it resolved", async () => {
    const hook = await webhookReceiver("s3cret");
    const smtp = await smtpReceiver();
    cleanups.push(hook.close, smtp.close);
    const config = webConfig(
      "{ type: rolling, maxSurge: 2, maxUnavailable: 0 }",
      `sli: { interval: 1s, coarse: 10s, fineFor: 5m, retention: 2h }
slos:
  web-availability:
    service: web
    sli: { type: availability }
    objective: 99%
    window: 1h
    alerting:
      burnRates: [{ severity: page, longWindow: 10s, shortWindow: 2s, burnRate: 5 }]
${oncallConfig(
  hook.url,
  smtp.port,
  `    main:
      levels:
        - { targets: [{ schedule: primary }], delay: 4s }
        - { targets: [{ person: lead }], delay: 1m }`,
)}`,
    );
    const g = await up({ config });
    cleanups.push(() => g.interrupt());
    await run(g, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"]);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 100 });
    cleanups.push(() => load.stop());
    await new Promise((r) => setTimeout(r, 2000));
    await run(g, [
      "deploy",
      "web",
      "--artifact",
      demoApp,
      "--version",
      "v2",
      "--env",
      "DEMO_FAIL_RATE=0.5",
      "--wait",
    ]);
    const deployed = Date.now();

    // Level 1: whoever the schedule has on call now, of the layer that has them.
    await waitUntil(() => hook.accepted().length > 0, 15_000, "the first page");
    const page = hook.accepted()[0]!;
    const schedule = toSchedule("primary", parseConfigText(config, "gantry.yaml").oncall.schedules.primary!);
    const expected = onCallAt(schedule, page.at)!;
    expect(page.signed).toBe(true);
    expect(page.headers["x-gantry-event"]).toBe("trigger");
    expect(page.body).toMatchObject({
      event: "incident.page",
      person: expected.person,
      level: 1,
      via: { schedule: "primary", layer: expected.layer },
      incident: { id: 1, severity: "high", service: "web" },
    });
    expect(page.at - deployed).toBeLessThan(8000);
    await waitUntil(() => smtp.mails.length > 0, 5000, "the page by email");
    expect(smtp.mails[0]).toMatchObject({
      from: "gantry@example.com",
      to: [`${expected.person}@example.com`],
    });
    expect(smtp.mails[0]!.subject).toMatch(/^\[HIGH\] Incident 1 on web: SLO web-availability/);

    // Nobody acknowledges: 4 s later the lead is paged, by webhook and by email.
    await waitUntil(() => smtp.mails.some((m) => m.to[0] === "lead@example.com"), 10_000, "the escalation");
    const toLead = hook.accepted().find((d) => d.body.person === "lead")!;
    expect(toLead.body).toMatchObject({ level: 2, via: null });
    expect(toLead.at - page.at).toBeGreaterThanOrEqual(3500);

    // The errors stop: the alert resolves, so does the incident, and the webhook hears it.
    await run(g, ["rollback", "web", "--wait"]);
    await waitUntil(
      () => hook.accepted().filter((d) => d.body.event === "incident.resolved").length === 2,
      20_000,
      "the resolution",
    );
    expect(
      hook
        .accepted()
        .filter((d) => d.body.event === "incident.resolved")
        .map((d) => d.body.person)
        .sort(),
    ).toEqual([expected.person, "lead"].sort());
    const pages = JSON.parse(await run(g, ["oncall", "pages", "1", "--json"])).pages as {
      kind: string;
      status: string;
    }[];
    expect(pages.filter((p) => p.kind === "trigger").map((p) => p.status)).toEqual([
      "sent",
      "sent",
      "sent",
      "sent",
    ]);
    const show = await run(g, ["incidents", "show", "1"]);
    expect(show).toMatch(
      new RegExp(
        `page +paging ${expected.person} via hook \\(level 1, on call for primary layer ${expected.layer}\\)`,
      ),
    );
    expect(show).toMatch(/page +page to lead delivered via mail/);
    expect(show).toMatch(/status +resolved by slo/);
    // Four pages (two people, two contacts each) and two resolutions, each delivered once.
    expect(smtp.mails).toHaveLength(2);
    expect(hook.accepted()).toHaveLength(4);
  });

  it("keeps a page that could not be delivered across a crash, and sends none twice", async () => {
    const hook = await webhookReceiver("s3cret");
    const smtp = await smtpReceiver();
    cleanups.push(hook.close, smtp.close);
    hook.setStatus(503);
    const config = oncallConfig(
      hook.url,
      smtp.port,
      `    main:
      levels:
        - { targets: [{ person: ana }], delay: 3s }
        - { targets: [{ person: lead }], delay: 1m }`,
    );
    const g = await up({ config });
    await run(g, [
      "incidents",
      "trigger",
      "--dedup-key",
      "db",
      "--summary",
      "db primary down",
      "--severity",
      "critical",
    ]);
    await waitUntil(() => hook.deliveries.length >= 2, 10_000, "failed attempts");
    // Email got through; the webhook keeps failing and is retried with backoff.
    expect(smtp.mails.map((m) => m.to[0])).toEqual(["ana@example.com"]);
    await g.kill();
    hook.setStatus(200);
    const attemptsBefore = hook.deliveries.length;
    const again = await up({ dataDir: g.dataDir, config, routerPort: g.routerPort, adminPort: g.adminPort });
    cleanups.push(() => again.interrupt());
    await waitUntil(
      () => hook.accepted().some((d) => d.body.person === "ana"),
      10_000,
      "the page after the restart",
    );
    await waitUntil(
      () => hook.accepted().some((d) => d.body.person === "lead"),
      10_000,
      "the escalation after the restart",
    );
    await run(again, ["incidents", "ack", "1"]);
    await waitUntil(
      () => hook.accepted().filter((d) => d.body.event === "incident.acknowledged").length === 2,
      10_000,
      "acks",
    );
    await new Promise((r) => setTimeout(r, 1500));
    const accepted = hook.accepted();
    // Every page (the same delivery id as before the crash) accepted exactly once.
    const ids = accepted.map((d) => d.headers["x-gantry-delivery"]);
    expect(new Set(ids).size).toBe(ids.length);
    const anaPage = accepted.find((d) => d.body.person === "ana" && d.body.event === "incident.page")!;
    expect(
      hook.deliveries
        .slice(0, attemptsBefore)
        .every((d) => d.headers["x-gantry-delivery"] === anaPage.headers["x-gantry-delivery"]),
    ).toBe(true);
    expect(accepted.map((d) => `${d.body.event} ${d.body.person}`).sort()).toEqual([
      "incident.acknowledged ana",
      "incident.acknowledged lead",
      "incident.page ana",
      "incident.page lead",
    ]);
    expect(smtp.mails.map((m) => m.to[0]).sort()).toEqual(["ana@example.com", "lead@example.com"]);
    const attempts = JSON.parse(await run(again, ["oncall", "pages", "1", "--json"])).pages.find(
      (p: { person: string; notifier: string }) => p.person === "ana" && p.notifier === "hook",
    ).attempts;
    expect(attempts).toBeGreaterThanOrEqual(3);
  });

  it("answers who is on call now and at a time, and shows the shifts across a DST change", async () => {
    const g = await up({
      config: oncallConfig(
        "http://127.0.0.1:9/hook",
        25,
        "    main: { levels: [{ targets: [{ person: ana }], delay: 1m }] }",
      ),
    });
    cleanups.push(() => g.interrupt());
    // Monday 2026-03-09 10:00 in New York (EDT since Sunday): turn 9 from Monday 2026-01-05, bo's.
    const who = await run(g, ["oncall", "who", "primary", "--at", "2026-03-09T10:00:00-04:00"]);
    expect(who).toMatch(/primary\s+bo\s+weekly/);
    expect(await run(g, ["oncall", "who", "--at", "2026-03-09T23:30:00-04:00"])).toMatch(
      /primary\s+cy\s+nights/,
    );
    const shifts = JSON.parse(
      await run(g, [
        "oncall",
        "schedule",
        "primary",
        "--from",
        "2026-03-06T12:00:00-05:00",
        "--for",
        "4d",
        "--json",
      ]),
    ).shifts as { person: string; from: string; to: string }[];
    // Handoff from ana to bo on Monday 09:00 EDT (13:00 UTC); nights from 22:00 to 06:00 local on
    // both sides of the change (03:00 and 11:00 UTC before it, 02:00 and 10:00 after).
    expect(shifts.map((s) => `${s.person} ${s.from.slice(5, 16)}`)).toEqual([
      "ana 03-06T17:00",
      "cy 03-07T03:00",
      "ana 03-07T11:00",
      "cy 03-08T03:00",
      "ana 03-08T10:00",
      "cy 03-09T02:00",
      "ana 03-09T10:00",
      "bo 03-09T13:00",
      "cy 03-10T02:00",
      "bo 03-10T10:00",
    ]);
    const override = await gantry(g.dataDir, [
      "oncall",
      "override",
      "primary",
      "zed",
      "--from",
      "2026-03-09T00:00:00Z",
      "--to",
      "2026-03-10T00:00:00Z",
    ]);
    expect(override.stderr).toContain('"zed" is not in oncall.people');
  });

  it("pages for an incident by a person, schedule, policy and route made with the CLI", async () => {
    const hook = await webhookReceiver("s3cret");
    cleanups.push(hook.close);
    const g = await up({
      config: `oncall:
  people:
    lead: { contacts: [{ notifier: hook }] }
  notifiers:
    hook: { type: webhook, url: ${hook.url}, secret: s3cret }
  delivery: { backoff: 200ms, maxBackoff: 1s }
`,
    });
    cleanups.push(() => g.interrupt());
    const file = (name: string, text: string) => {
      const path = join(g.dataDir, name);
      writeFileSync(path, text);
      return path;
    };
    const schedule = `timeZone: Asia/Tokyo
layers:
  - { name: daily, participants: [zoe, lead], turn: 1d, start: 2026-01-05, handoff: "10:00" }
`;
    expect(
      await run(g, [
        "oncall",
        "person",
        "set",
        "zoe",
        "--file",
        file("zoe.yaml", "contacts: [{ notifier: hook }]\n"),
      ]),
    ).toBe("created person zoe\n");
    expect(
      await run(g, [
        "oncall",
        "schedule",
        "set",
        "payments",
        "-f",
        file("s.yaml", schedule),
        "--reason",
        "new team",
      ]),
    ).toBe("created schedule payments\n");
    const policy = file(
      "p.json",
      JSON.stringify({
        levels: [
          { targets: [{ schedule: "payments" }], delay: "2s" },
          { targets: [{ person: "lead" }], delay: "1m" },
        ],
      }),
    );
    await run(g, ["oncall", "policy", "set", "payments", "--file", policy]);
    await run(g, [
      "oncall",
      "route",
      "set",
      "payments",
      "--file",
      file("r.yaml", "{ service: payments, severities: [critical], policy: payments }\n"),
    ]);
    const policies = JSON.parse(await run(g, ["oncall", "policy", "list", "--json"])).policies;
    expect(policies).toMatchObject([
      { name: "payments", source: "api", spec: { levels: [{ delay: "2s" }, { delay: "1m" }] } },
    ]);

    await run(g, [
      "incidents",
      "trigger",
      "--dedup-key",
      "pay",
      "--summary",
      "payments down",
      "--severity",
      "critical",
      "--service",
      "payments",
    ]);
    await waitUntil(() => hook.accepted().length > 0, 10_000, "the first page");
    const page = hook.accepted()[0]!;
    const expected = onCallAt(toSchedule("payments", scheduleSpec.parse(parseYaml(schedule))), page.at)!;
    expect(page.body).toMatchObject({
      event: "incident.page",
      person: expected.person,
      level: 1,
      via: { schedule: "payments", layer: "daily" },
      incident: { id: 1, severity: "critical", service: "payments" },
    });
    // While it escalates, what it pages cannot be deleted; the policy can, and the escalation goes on.
    const held = await gantry(g.dataDir, ["oncall", "schedule", "delete", "payments"]);
    expect(held.code).toBe(5);
    expect(held.stderr).toContain("policy payments (levels[0].targets[0].schedule)");
    expect(held.stderr).toContain("the escalation of incident 1 (policy payments) under way");
    await run(g, ["oncall", "route", "delete", "payments"]);
    await run(g, ["oncall", "policy", "delete", "payments", "--reason", "moved to gantry.yaml"]);
    await waitUntil(() => hook.accepted().some((d) => d.body.level === 2), 10_000, "the escalation");
    expect(hook.accepted().find((d) => d.body.level === 2)!.body).toMatchObject({
      person: "lead",
      via: null,
    });
  });
});
