import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../audit/index.ts";
import { refusal } from "../errors/test-refusal.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { type AlertInput, IncidentService, IncidentStore, type Postmortem } from "./index.ts";

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setup() {
  const store = await openSqliteStore(join(mkdtempSync(join(tmpdir(), "gantry-inc-")), "gantry.db"));
  stores.push(store);
  let now = Date.parse("2026-06-01T12:00:00Z");
  const clock = () => new Date(now);
  const audit = new AuditLog(store.db, clock);
  const incidents = new IncidentService({
    store: new IncidentStore(store.db),
    audit,
    now: clock,
    changesBefore: 3_600_000,
  });
  incidents.watchChanges();
  const changes: string[] = [];
  incidents.onChange((c) => {
    changes.push(`${c.type} ${c.incident.id} ${c.incident.severity}`);
  });
  return { audit, incidents, changes, advance: (ms: number) => (now += ms) };
}

const alert = (over: Partial<AlertInput> = {}): AlertInput => ({
  source: "api",
  key: "api/db-down",
  dedupKey: "db",
  status: "firing",
  severity: "medium",
  summary: "database down",
  service: "web",
  details: {},
  ...over,
});

const postmortem: Postmortem = {
  summary: "The database ran out of connections",
  impact: "Half of checkout requests failed for 12 minutes",
  rootCause: "v2 opened a pool per request",
  trigger: "deploy of v2",
  resolution: "rolled back to v1",
  detection: "SLO burn-rate page after 52 s",
  actionItems: [{ description: "lint for pools created per request", owner: "ana", done: false }],
  lessons: "canary the pool settings",
};

describe("incidents", () => {
  it("opens one incident per dedup key, raises its severity, and resolves when every alert resolved", async () => {
    const t = await setup();
    const first = await t.incidents.ingest(alert());
    expect(first).toMatchObject({
      created: true,
      incident: { id: 1, status: "triggered", severity: "medium" },
    });
    // The same condition again: nothing new.
    expect(await t.incidents.ingest(alert())).toMatchObject({ created: false, incident: { id: 1 } });
    // Another condition with the same dedup key joins, and raises the severity.
    t.advance(1000);
    const second = await t.incidents.ingest(
      alert({ key: "api/db-slow", severity: "critical", summary: "db slow" }),
    );
    expect(second).toMatchObject({ created: false, incident: { id: 1, severity: "critical" } });
    // A different dedup key is another incident.
    expect((await t.incidents.ingest(alert({ key: "api/x", dedupKey: "other" }))).incident!.id).toBe(2);
    await t.incidents.ingest(alert({ status: "resolved" }));
    expect((await t.incidents.get(1)).incident.status).toBe("triggered");
    t.advance(60_000);
    const last = await t.incidents.ingest(alert({ key: "api/db-slow", status: "resolved" }));
    expect(last.incident).toMatchObject({
      status: "resolved",
      resolvedBy: "api",
      postmortemDue: true,
      closed: false,
    });
    // Resolving a condition that is not firing changes nothing.
    expect(await t.incidents.ingest(alert({ status: "resolved" }))).toEqual({
      incident: null,
      alert: null,
      created: false,
    });
    // The same key firing again after the incident resolved is a new incident.
    expect((await t.incidents.ingest(alert())).incident!.id).toBe(3);
    expect(t.changes).toEqual([
      "triggered 1 medium",
      "escalated-severity 1 medium",
      "triggered 2 medium",
      "resolved 1 critical",
      "triggered 3 medium",
    ]);
  });

  it("moves through triggered → acknowledged → mitigated → resolved, refusing steps back", async () => {
    const t = await setup();
    await t.incidents.ingest(alert());
    t.advance(90_000);
    expect(await t.incidents.acknowledge(1, "ana")).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "ana",
    });
    const again = await refusal(t.incidents.acknowledge(1, "bo"));
    expect(again.code).toBe("CONFLICT");
    expect(again.message).toBe(
      "incident 1 is acknowledged (by ana at 2026-06-01T12:01:30.000Z); it can be acknowledged only while triggered",
    );
    await t.incidents.mitigate(1, "ana", "rolled back");
    t.advance(30_000);
    const resolved = await t.incidents.resolve(1, "ana");
    // Medium severity needs no postmortem: closed once resolved. Its alert went with it.
    expect(resolved).toMatchObject({ status: "resolved", closed: true, postmortemDue: false });
    expect(await t.incidents.firingAlerts()).toEqual([]);
    expect((await refusal(t.incidents.mitigate(1, "ana"))).message).toContain(
      "it can be mitigated only while triggered or acknowledged",
    );
    expect((await refusal(t.incidents.resolve(42, "ana"))).code).toBe("NOT_FOUND");
    const { timeline } = await t.incidents.get(1);
    expect(timeline.filter((e) => e.kind === "status").map((e) => e.text)).toEqual([
      "triggered (medium): database down",
      "acknowledged by ana after 90s",
      "mitigated by ana after 90s — rolled back",
      "resolved by ana after 2m",
    ]);
  });

  it("fills the timeline with the changes before the start and while it is open, and with notes", async () => {
    const t = await setup();
    await t.audit.record({
      actor: "ana",
      action: "rollout.started",
      service: "web",
      subject: "rollout/7",
      data: { from: "v1", to: "v2" },
    });
    await t.audit.record({
      actor: "bo",
      action: "flag.updated",
      subject: "flag/checkout",
      reason: "50% rollout",
    });
    await t.audit.record({
      actor: "cy",
      action: "rollout.started",
      service: "api",
      data: { from: "v1", to: "v9" },
    });
    await t.audit.record({ actor: "ana", action: "token.created", data: {} });
    t.advance(2 * 3_600_000);
    await t.audit.record({
      actor: "dee",
      action: "mode.changed",
      service: "web",
      data: { mode: "read-only" },
    });
    t.advance(60_000);
    await t.incidents.ingest(alert());
    t.advance(1000);
    await t.audit.record({
      actor: "ana",
      action: "rollback.forced",
      service: "web",
      subject: "rollout/8",
      reason: "errors",
    });
    await t.audit.record({
      actor: "eve",
      action: "rollout.started",
      service: "api",
      data: { from: "v9", to: "v10" },
    });
    await t.incidents.note(1, "ana", "looking at the pool metrics");
    await t.incidents.settled();
    const { timeline } = await t.incidents.get(1);
    expect(timeline.map((e) => `${e.kind}: ${e.text}`)).toEqual([
      // Only the mode switch was within the hour before; the other service's deploy is left out.
      "change: mode of web → read-only by dee",
      "status: triggered (medium): database down",
      "alert.fired: database down [medium, api/db-down]",
      "change: rollback.forced rollout/8 by ana — errors",
      "note: looking at the pool metrics",
    ]);
  });

  it("holds a high-severity incident open for a postmortem, and finds incidents by text", async () => {
    const t = await setup();
    await t.incidents.ingest(alert({ severity: "high", summary: "checkout failing" }));
    await t.incidents.resolve(1, "ana");
    expect((await t.incidents.list({})).map((i) => [i.id, i.status, i.postmortemDue])).toEqual([
      [1, "resolved", true],
    ]);
    const closed = await t.incidents.writePostmortem(1, "ana", postmortem);
    expect(closed).toMatchObject({ closed: true, postmortemDue: false, postmortem });
    expect(await t.incidents.list({})).toEqual([]);
    expect((await t.incidents.list({ state: "all", text: "pool per request" })).map((i) => i.id)).toEqual([
      1,
    ]);
    expect((await t.incidents.list({ state: "all", text: "checkout" })).map((i) => i.id)).toEqual([1]);
    expect(await t.incidents.list({ state: "all", text: "kafka" })).toEqual([]);
  });
});
