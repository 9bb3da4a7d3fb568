import type { NotifierSpec } from "../../config/index.ts";
import type { Notifier } from "./notifier.ts";
import { PagerDutyNotifier } from "./pagerduty-notifier.ts";
import { SlackNotifier } from "./slack-notifier.ts";
import { SmtpNotifier } from "./smtp-notifier.ts";
import { WebhookNotifier } from "./webhook-notifier.ts";

export { type ContactTarget, DeliveryError, type Notifier, type PageMessage, pageText } from "./notifier.ts";
export { pagerDutyEvent } from "./pagerduty-notifier.ts";
export { slackMessage } from "./slack-notifier.ts";
export { webhookSignature } from "./webhook-notifier.ts";

/** A notifier for each declared one. */
export function createNotifier(spec: NotifierSpec, deps: { now: () => Date; timeoutMs: number }): Notifier {
  switch (spec.type) {
    case "webhook":
      return new WebhookNotifier(spec, deps.now);
    case "slack":
      return new SlackNotifier(spec);
    case "pagerduty":
      return new PagerDutyNotifier(spec);
    case "smtp":
      return new SmtpNotifier(spec, deps.timeoutMs);
  }
}
