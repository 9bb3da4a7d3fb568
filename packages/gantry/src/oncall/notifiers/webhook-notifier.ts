import { createHmac } from "node:crypto";
import { type ContactTarget, type Notifier, type PageMessage, postJson } from "./notifier.ts";

/** The signature a receiver recomputes: hex HMAC-SHA256 of `${timestamp}.${body}` with the shared secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * A signed generic webhook: JSON with the event, incident and person; headers
 * X-Gantry-Event, X-Gantry-Delivery (the page id, the same on retries), X-Gantry-Timestamp
 * (unix seconds) and X-Gantry-Signature (see webhookSignature) so the receiver can check
 * the sender and refuse replays.
 */
export class WebhookNotifier implements Notifier {
  readonly type = "webhook";
  readonly kinds = ["trigger", "acknowledge", "resolve"] as const;
  readonly #url: string;
  readonly #secret: string;
  readonly #now: () => Date;

  constructor(spec: { url: string; secret: string }, now: () => Date) {
    this.#url = spec.url;
    this.#secret = spec.secret;
    this.#now = now;
  }

  async send(m: PageMessage, _target: ContactTarget, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify({
      event:
        m.kind === "trigger"
          ? "incident.page"
          : `incident.${m.kind === "acknowledge" ? "acknowledged" : "resolved"}`,
      delivery: m.pageId,
      person: m.person,
      level: m.level,
      round: m.round,
      via: m.via,
      incident: {
        id: m.incident.id,
        title: m.incident.title,
        severity: m.incident.severity,
        status: m.incident.status,
        service: m.incident.service,
        createdAt: m.incident.createdAt,
        url: m.link,
      },
    });
    const timestamp = String(Math.floor(this.#now().getTime() / 1000));
    await postJson(
      this.#url,
      body,
      {
        "x-gantry-event": m.kind,
        "x-gantry-delivery": String(m.pageId),
        "x-gantry-timestamp": timestamp,
        "x-gantry-signature": webhookSignature(this.#secret, timestamp, body),
      },
      signal,
    );
  }
}
