import { type ContactTarget, type Notifier, type PageMessage, pageText, postJson } from "./notifier.ts";

const pdSeverity = { critical: "critical", high: "error", medium: "warning", low: "info" } as const;

/**
 * PagerDuty Events API v2: trigger on a page, acknowledge and resolve with the incident,
 * all with the dedup key `gantry-incident-ID`, so PagerDuty keeps one incident of its own
 * for Gantry's and a retried trigger is not a second one.
 */
export function pagerDutyEvent(routingKey: string, m: PageMessage): Record<string, unknown> {
  const i = m.incident;
  const event: Record<string, unknown> = {
    routing_key: routingKey,
    event_action: m.kind,
    dedup_key: `gantry-incident-${i.id}`,
  };
  if (m.kind === "trigger") {
    event.payload = {
      summary: pageText(m).slice(0, 1024),
      source: i.service ?? "gantry",
      severity: pdSeverity[i.severity],
      timestamp: i.createdAt,
      component: i.service ?? undefined,
      group: i.dedupKey,
      class: i.source,
      custom_details: { incident: i.id, person: m.person, level: m.level, round: m.round, via: m.via },
    };
    event.links = [{ href: m.link, text: `Gantry incident ${i.id}` }];
  }
  return event;
}

export class PagerDutyNotifier implements Notifier {
  readonly type = "pagerduty";
  readonly kinds = ["trigger", "acknowledge", "resolve"] as const;
  readonly #url: string;
  readonly #routingKey: string;

  constructor(spec: { url: string; routingKey: string }) {
    this.#url = spec.url;
    this.#routingKey = spec.routingKey;
  }

  async send(m: PageMessage, _target: ContactTarget, signal: AbortSignal): Promise<void> {
    await postJson(this.#url, JSON.stringify(pagerDutyEvent(this.#routingKey, m)), {}, signal);
  }
}
