import type { Incident } from "../../incidents/index.ts";

/** What a notifier is asked to deliver: a page of an incident to a person, or its acknowledgement or resolution. */
export interface PageMessage {
  /** The page's id: the same on every retry, so a receiver can drop a repeat (X-Gantry-Delivery, Message-ID). */
  pageId: number;
  kind: "trigger" | "acknowledge" | "resolve";
  incident: Incident;
  person: string;
  /** Escalation level (1-based) and round (0 for the first pass); null for acknowledge/resolve. */
  level: number | null;
  round: number | null;
  /** The schedule and layer that made the person a target, if any. */
  via: { schedule: string; layer: string | null } | null;
  /** Where the incident can be seen (the API's incident URL). */
  link: string;
}

/** How one contact of a person is reached (the email address, a Slack member to mention). */
export interface ContactTarget {
  to?: string | undefined;
  mention?: string | undefined;
}

/** A delivery that failed; permanent ones (a 400) are not retried. */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent = false, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeliveryError";
    this.permanent = permanent;
  }
}

/** The variation point between the pager and the outside: webhook, Slack, PagerDuty, SMTP. */
export interface Notifier {
  readonly type: string;
  /** Which kinds this notifier delivers (every notifier takes pages; some take acknowledgements and resolutions). */
  readonly kinds: readonly PageMessage["kind"][];
  send(message: PageMessage, target: ContactTarget, signal: AbortSignal): Promise<void>;
  close?(): void;
}

export function pageText(m: PageMessage): string {
  const i = m.incident;
  if (m.kind === "acknowledge") return `Incident ${i.id} acknowledged by ${i.acknowledgedBy}: ${i.title}`;
  if (m.kind === "resolve") return `Incident ${i.id} resolved by ${i.resolvedBy}: ${i.title}`;
  const via = m.via ? ` (on call for ${m.via.schedule}${m.via.layer ? `, layer ${m.via.layer}` : ""})` : "";
  return `[${i.severity.toUpperCase()}] Incident ${i.id}${i.service ? ` on ${i.service}` : ""}: ${i.title} — paging ${m.person}${via}, level ${m.level}${m.round ? `, repeat ${m.round}` : ""}. Acknowledge: gantry incidents ack ${i.id}`;
}

/** POSTs JSON with a timeout; non-2xx answers become DeliveryErrors (4xx other than 408/429 permanent). */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      signal,
    });
  } catch (cause) {
    throw new DeliveryError(`${url}: ${(cause as Error).cause ?? (cause as Error).message}`, false, {
      cause,
    });
  }
  if (response.ok) return response;
  const text = (await response.text().catch(() => "")).slice(0, 300);
  const permanent =
    response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  throw new DeliveryError(`${url} answered ${response.status}${text ? `: ${text}` : ""}`, permanent);
}
