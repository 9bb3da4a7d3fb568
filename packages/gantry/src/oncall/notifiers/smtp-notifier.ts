import nodemailer, { type Transporter } from "nodemailer";
import { type ContactTarget, DeliveryError, type Notifier, type PageMessage, pageText } from "./notifier.ts";

/**
 * Email over SMTP (nodemailer): one message per page, with a Message-ID derived from the page
 * id so a message sent again after a crash is recognisably the same one.
 */
export class SmtpNotifier implements Notifier {
  readonly type = "smtp";
  readonly kinds = ["trigger"] as const;
  readonly #from: string;
  readonly #transport: Transporter;
  readonly #host: string;

  constructor(
    spec: {
      host: string;
      port: number;
      secure: boolean;
      from: string;
      auth?: { user: string; pass: string } | undefined;
    },
    timeoutMs: number,
  ) {
    this.#from = spec.from;
    this.#host = spec.host;
    this.#transport = nodemailer.createTransport({
      host: spec.host,
      port: spec.port,
      secure: spec.secure,
      ...(spec.auth && { auth: spec.auth }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }

  async send(m: PageMessage, target: ContactTarget, _signal: AbortSignal): Promise<void> {
    if (!target.to) throw new DeliveryError(`no email address for ${m.person}`, true);
    const i = m.incident;
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to: target.to,
        subject:
          `[${i.severity.toUpperCase()}] Incident ${i.id}${i.service ? ` on ${i.service}` : ""}: ${i.title}`.slice(
            0,
            250,
          ),
        text: `${pageText(m)}\n\nStarted ${i.createdAt}.\n${m.link}\n`,
        messageId: `<gantry-page-${m.pageId}@${this.#host}>`,
        headers: { "X-Gantry-Delivery": String(m.pageId), "X-Gantry-Incident": String(i.id) },
      });
    } catch (cause) {
      const code = (cause as { responseCode?: number }).responseCode;
      // 5xx SMTP replies are permanent (a refused address); the rest (4xx, connection) are retried.
      throw new DeliveryError(
        `smtp ${this.#host}: ${(cause as Error).message}`,
        code !== undefined && code >= 500,
        { cause },
      );
    }
  }

  close(): void {
    this.#transport.close();
  }
}
