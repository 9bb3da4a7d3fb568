import type { Kysely, Selectable } from "kysely";
import type { Logger } from "pino";
import type { Incident, IncidentService } from "../incidents/index.ts";
import type { Database, PagesTable } from "../store/index.ts";
import { recipients, stepsDue } from "./escalation.ts";
import { DeliveryError, type Notifier, type PageMessage } from "./notifiers/index.ts";
import type { OncallDirectory } from "./oncall-directory.ts";

export interface PageRecord {
  id: number;
  incidentId: number;
  kind: PageMessage["kind"];
  round: number;
  level: number;
  person: string;
  notifier: string;
  via: PageMessage["via"];
  status: "pending" | "sent" | "failed" | "cancelled";
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface PagerDeps {
  db: Kysely<Database>;
  directory: OncallDirectory;
  incidents: IncidentService;
  notifiers: ReadonlyMap<string, Notifier>;
  now: () => Date;
  /** Where a person can see an incident (the API's incident URL). */
  link: (incidentId: number) => string;
  delivery: { attempts: number; backoff: number; maxBackoff: number; timeout: number };
  log?: Logger;
}

/**
 * Pages people for incidents by their escalation policy (the one fixed for the incident when
 * its escalation started). Planning is derived from the incident and that policy alone (which
 * steps are due, who is on call at each step), and every page is a row with a unique
 * (incident, kind, step, person, notifier): planning again, after a restart or on every tick,
 * never adds a page twice, and a page not yet delivered is still there to deliver. Deliveries are retried with exponential backoff and jitter; an
 * acknowledgement stops the escalation and cancels what was not yet sent.
 */
export class Pager {
  readonly #d: PagerDeps;
  readonly #inFlight = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(deps: PagerDeps) {
    this.#d = deps;
    deps.incidents.onChange(() => this.kick());
  }

  start(intervalMs = 500): void {
    this.#timer = setInterval(() => this.kick(), intervalMs);
    this.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#running) await this.#running;
  }

  /** Plans and delivers now (coalesced with a run under way). */
  kick(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.plan();
          await this.deliver();
        } catch (err) {
          this.#d.log?.error({ err }, "paging failed");
        }
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Adds the pages that are due and cancels those an acknowledgement made unnecessary. */
  async plan(): Promise<void> {
    const now = this.#d.now();
    const open = await this.#d.incidents.list({ state: "open", limit: 1000 });
    for (const incident of open) {
      if (incident.status !== "triggered") {
        await this.#stopEscalation(incident);
        continue;
      }
      // Fixed when the escalation starts: later edits of policies and routes apply to new incidents.
      const policy = await this.#d.directory.escalationFor(incident);
      if (!policy) continue;
      const schedules = this.#d.directory.schedules();
      for (const step of stepsDue(policy, Date.parse(incident.createdAt), now.getTime())) {
        const { recipients: people, missing } = recipients(step.targets, schedules, step.at);
        for (const r of people) {
          for (const contact of this.#d.directory.contacts(r.person)) {
            const inserted = await this.#insert(
              incident.id,
              "trigger",
              step.round,
              step.level,
              r.person,
              contact,
              r.via,
              now,
            );
            if (inserted)
              await this.#d.incidents.log(incident.id, {
                kind: "page",
                actor: "pager",
                text: `paging ${r.person} via ${contact.notifier} (level ${step.level + 1}${step.round ? `, repeat ${step.round}` : ""}${r.via ? `, on call for ${r.via.schedule}${r.via.layer ? ` layer ${r.via.layer}` : " by override"}` : ""})`,
                data: {
                  level: step.level,
                  round: step.round,
                  person: r.person,
                  notifier: contact.notifier,
                  via: r.via,
                },
              });
          }
        }
        for (const schedule of missing) {
          const key = `${step.round}/${step.level}/${schedule}`;
          if (await this.#insertMissing(incident.id, key, now))
            await this.#d.incidents.log(incident.id, {
              kind: "page",
              actor: "pager",
              text: `nobody is on call for ${schedule} (level ${step.level + 1}); the next level follows`,
              data: { schedule, level: step.level, round: step.round },
            });
        }
      }
    }
    for (const incident of await this.#recentlyEnded(now)) await this.#stopEscalation(incident);
  }

  /** Delivers every page that is due, each at most once at a time. */
  async deliver(): Promise<void> {
    const now = this.#d.now().toISOString();
    const due = await this.#d.db
      .selectFrom("pages")
      .selectAll()
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .orderBy("id")
      .limit(200)
      .execute();
    await Promise.all(due.filter((p) => !this.#inFlight.has(Number(p.id))).map((p) => this.#deliverOne(p)));
  }

  async pages(incidentId?: number): Promise<PageRecord[]> {
    let q = this.#d.db.selectFrom("pages").selectAll().where("notifier", "!=", "");
    if (incidentId !== undefined) q = q.where("incident_id", "=", incidentId);
    return (await q.orderBy("id").execute()).map(toRecord);
  }

  async #deliverOne(row: Selectable<PagesTable>): Promise<void> {
    const id = Number(row.id);
    this.#inFlight.add(id);
    try {
      const notifier = this.#d.notifiers.get(row.notifier);
      const { incident } = await this.#d.incidents.get(Number(row.incident_id));
      const message: PageMessage = {
        pageId: id,
        kind: row.kind as PageMessage["kind"],
        incident,
        person: row.person,
        level: row.level >= 0 ? row.level + 1 : null,
        round: row.round >= 0 ? row.round : null,
        via: row.via ? JSON.parse(row.via) : null,
        link: this.#d.link(incident.id),
      };
      const attempts = Number(row.attempts) + 1;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.#d.delivery.timeout);
      try {
        if (!notifier) throw new DeliveryError(`notifier ${row.notifier} is no longer declared`, true);
        await notifier.send(message, JSON.parse(row.target), controller.signal);
        const sentAt = this.#d.now().toISOString();
        await this.#d.db
          .updateTable("pages")
          .set({ status: "sent", attempts, sent_at: sentAt, last_error: null })
          .where("id", "=", id)
          .execute();
        await this.#d.incidents.log(incident.id, {
          kind: "page",
          actor: "pager",
          text: `${describe(message)} delivered via ${row.notifier}${attempts > 1 ? ` (attempt ${attempts})` : ""}`,
          data: { page: id, attempts },
        });
      } catch (error) {
        const reason = controller.signal.aborted
          ? `timed out after ${this.#d.delivery.timeout} ms`
          : (error as Error).message;
        const permanent = error instanceof DeliveryError && error.permanent;
        const giveUp = permanent || attempts >= this.#d.delivery.attempts;
        const { backoff, maxBackoff } = this.#d.delivery;
        const wait = Math.min(maxBackoff, backoff * 2 ** (attempts - 1)) * (0.8 + Math.random() * 0.4);
        await this.#d.db
          .updateTable("pages")
          .set({
            status: giveUp ? "failed" : "pending",
            attempts,
            last_error: reason.slice(0, 1000),
            next_attempt_at: new Date(this.#d.now().getTime() + wait).toISOString(),
          })
          .where("id", "=", id)
          .execute();
        if (giveUp)
          await this.#d.incidents.log(incident.id, {
            kind: "page",
            actor: "pager",
            text: `${describe(message)} via ${row.notifier} failed${permanent ? "" : ` after ${attempts} attempts`}: ${reason}`,
            data: { page: id, attempts, error: reason },
          });
        else this.#d.log?.warn({ page: id, attempts, err: reason }, "page delivery failed; retrying");
      } finally {
        clearTimeout(timer);
      }
    } finally {
      this.#inFlight.delete(id);
    }
  }

  /** After an acknowledgement or resolution: cancel unsent pages, tell notifiers that take it. */
  async #stopEscalation(incident: Incident): Promise<void> {
    const now = this.#d.now();
    await this.#d.db
      .updateTable("pages")
      .set({ status: "cancelled", last_error: `incident ${incident.status} before delivery` })
      .where("incident_id", "=", incident.id)
      .where("kind", "=", "trigger")
      .where("status", "=", "pending")
      .execute();
    const kinds: PageMessage["kind"][] = [];
    if (incident.acknowledgedAt) kinds.push("acknowledge");
    if (incident.status === "resolved") kinds.push("resolve");
    if (kinds.length === 0) return;
    // Those paged through a notifier that takes acknowledgements and resolutions hear of them.
    const sent = await this.#d.db
      .selectFrom("pages")
      .select(["person", "notifier", "target"])
      .distinct()
      .where("incident_id", "=", incident.id)
      .where("kind", "=", "trigger")
      .where("status", "=", "sent")
      .execute();
    for (const kind of kinds)
      for (const p of sent) {
        if (!this.#d.notifiers.get(p.notifier)?.kinds.includes(kind)) continue;
        await this.#insert(
          incident.id,
          kind,
          -1,
          -1,
          p.person,
          { notifier: p.notifier, ...JSON.parse(p.target) },
          null,
          now,
        );
      }
  }

  /** Resolved incidents whose pages went out and whose resolution is not yet planned. */
  async #recentlyEnded(now: Date): Promise<Incident[]> {
    const told = [...this.#d.notifiers].filter(([, n]) => n.kinds.includes("resolve")).map(([name]) => name);
    if (told.length === 0) return [];
    const since = new Date(now.getTime() - 7 * 24 * 3_600_000).toISOString();
    const rows = await this.#d.db
      .selectFrom("incidents")
      .select("id")
      .where("status", "=", "resolved")
      .where("resolved_at", ">=", since)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("pages")
            .select("pages.id")
            .whereRef("pages.incident_id", "=", "incidents.id")
            .where("pages.kind", "=", "trigger")
            .where("pages.notifier", "in", told)
            .where("pages.status", "in", ["sent", "pending"]),
        ),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("pages")
              .select("pages.id")
              .whereRef("pages.incident_id", "=", "incidents.id")
              .where("pages.kind", "=", "resolve"),
          ),
        ),
      )
      .limit(100)
      .execute();
    const out: Incident[] = [];
    for (const r of rows) out.push((await this.#d.incidents.get(Number(r.id))).incident);
    return out;
  }

  async #insert(
    incidentId: number,
    kind: PageMessage["kind"],
    round: number,
    level: number,
    person: string,
    contact: { notifier: string; to?: string | undefined; mention?: string | undefined },
    via: PageMessage["via"],
    now: Date,
  ): Promise<boolean> {
    const { notifier, ...target } = contact;
    const result = await this.#d.db
      .insertInto("pages")
      .values({
        incident_id: incidentId,
        kind,
        round,
        level,
        person,
        notifier,
        target: JSON.stringify(target),
        via: via ? JSON.stringify(via) : null,
        status: "pending",
        attempts: 0,
        next_attempt_at: now.toISOString(),
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Records once that a schedule had nobody for a step (a row with no notifier, never delivered). */
  async #insertMissing(incidentId: number, key: string, now: Date): Promise<boolean> {
    const [round, level, schedule] = key.split("/") as [string, string, string];
    const result = await this.#d.db
      .insertInto("pages")
      .values({
        incident_id: incidentId,
        kind: "trigger",
        round: Number(round),
        level: Number(level),
        person: `schedule:${schedule}`,
        notifier: "",
        target: "{}",
        via: null,
        status: "cancelled",
        attempts: 0,
        next_attempt_at: now.toISOString(),
        last_error: "nobody on call",
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
}

function describe(m: PageMessage): string {
  if (m.kind === "trigger") return `page to ${m.person}`;
  return `${m.kind === "acknowledge" ? "acknowledgement" : "resolution"} to ${m.person}`;
}

function toRecord(r: Selectable<PagesTable>): PageRecord {
  return {
    id: Number(r.id),
    incidentId: Number(r.incident_id),
    kind: r.kind as PageRecord["kind"],
    round: Number(r.round),
    level: Number(r.level),
    person: r.person,
    notifier: r.notifier,
    via: r.via ? JSON.parse(r.via) : null,
    status: r.status as PageRecord["status"],
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}
