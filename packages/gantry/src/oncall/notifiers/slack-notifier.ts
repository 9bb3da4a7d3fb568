import { type ContactTarget, type Notifier, type PageMessage, pageText, postJson } from "./notifier.ts";

/** Slack's incoming-webhook format: `text` (the fallback and notification) and Block Kit `blocks`. */
export function slackMessage(m: PageMessage, target: ContactTarget): { text: string; blocks: unknown[] } {
  const mention = target.mention ? `<@${target.mention}> ` : "";
  const text = `${mention}${pageText(m)}`;
  const i = m.incident;
  return {
    text,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `${mention}*Incident ${i.id}* (${i.severity}): ${slackEscape(i.title)}`,
        },
      },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `${i.service ? `service *${slackEscape(i.service)}* · ` : ""}paging ${slackEscape(m.person)}, level ${m.level}${m.via ? ` via ${slackEscape(m.via.schedule)}` : ""} · \`gantry incidents ack ${i.id}\``,
          },
        ],
      },
    ],
  };
}

function slackEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Posts pages to a Slack incoming webhook (a channel), mentioning the person when a member id is given. */
export class SlackNotifier implements Notifier {
  readonly type = "slack";
  readonly kinds = ["trigger"] as const;
  readonly #url: string;

  constructor(spec: { url: string }) {
    this.#url = spec.url;
  }

  async send(m: PageMessage, target: ContactTarget, signal: AbortSignal): Promise<void> {
    await postJson(this.#url, JSON.stringify(slackMessage(m, target)), {}, signal);
  }
}
