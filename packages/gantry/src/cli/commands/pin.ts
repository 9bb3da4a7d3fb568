import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson } from "../render.ts";

interface PinTicket {
  header: string;
  value: string;
  version: string;
  expiresAt: string;
}

export const pin: Command = {
  name: "pin",
  usage: "gantry pin SERVICE VERSION [--for 1h] [--reason TEXT]",
  summary: "a header that sends your requests to one version, for testing",
  help: `Prints a header line, X-Gantry-Pin: TICKET. Requests that carry it go to VERSION of
SERVICE whatever the weights or cohorts say, as long as that version has a ready instance:
a canary before its first traffic step, a phased rollout's candidate before your group's
phase, or a blue-green colour before the switch. The ticket is signed, works for that
service and version only, and expires (--for, 1h by default, at most 24h). Needs a token
that may deploy; audited. The router does not forward the header to the application.

  curl -H "$(gantry pin web v2)" http://web.localhost:8080/

  --for DURATION   how long the ticket works (e.g. 30m, 2h)
  --reason TEXT    why, for the audit trail
  --json           print {header, value, version, expiresAt}
${clientHelp}`,
  options: { ...clientOptions, for: { type: "string" }, reason: { type: "string" } },
  async run(values, positionals) {
    const service = requirePositional(pin, positionals, 0, "SERVICE");
    const version = requirePositional(pin, positionals, 1, "VERSION");
    const body: Record<string, string> = { version };
    if (values.for !== undefined) body.for = String(values.for);
    if (values.reason !== undefined) body.reason = String(values.reason);
    const ticket = await clientFrom(values).request<PinTicket>(
      "POST",
      `/api/v1/services/${encodeURIComponent(service)}/pin`,
      body,
    );
    if (values.json) printJson(ticket);
    else {
      process.stdout.write(`${ticket.header}: ${ticket.value}\n`);
      process.stderr.write(`pins ${service} to ${ticket.version} until ${ticket.expiresAt}\n`);
    }
    return 0;
  },
};
