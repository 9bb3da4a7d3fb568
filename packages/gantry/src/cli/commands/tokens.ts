import type { CreatedToken, Principal } from "../../auth/index.ts";
import { GantryError } from "../../errors/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson, table } from "../render.ts";

export const tokens: Command = {
  name: "tokens",
  usage:
    "gantry tokens create --role viewer|deployer|admin|sdk|alerter [--env ENV] [--name NAME] | list | revoke ID",
  summary: "API tokens and their roles (admin only)",
  help: `Roles: viewer reads everything; deployer also deploys and rolls back; admin also manages
tokens; sdk is for applications: it may report (experiment results, flag evaluations) and,
created with --env, read that flag environment's flags (SDK sync, OFREP) and nothing else;
alerter is for monitoring systems (Alertmanager, webhooks): it may send alerts and nothing else.
A new token is printed once; Gantry keeps only its hash.

  create --role R [--name N]   print a new token (with --json: its id, name and role too)
         [--env ENV]           sdk only: the flag environment it reads (e.g. production)
  list                         names, roles and ids
  revoke ID                    the token stops working at once
${clientHelp}`,
  options: { ...clientOptions, role: { type: "string" }, name: { type: "string" }, env: { type: "string" } },
  async run(values, positionals) {
    const client = clientFrom(values);
    const action = requirePositional(tokens, positionals, 0, "create|list|revoke");
    if (action === "create") {
      if (!values.role)
        throw new GantryError("BAD_REQUEST", "--role is required: viewer, deployer, admin, sdk or alerter", {
          field: "role",
        });
      const created = await client.request<CreatedToken>("POST", "/api/v1/tokens", {
        name: values.name ?? (values.env ? `${values.role}-${values.env}-token` : `${values.role}-token`),
        role: values.role,
        ...(values.env !== undefined && { environment: values.env }),
      });
      if (values.json) printJson(created);
      else process.stdout.write(`${created.token}\n`);
      return 0;
    }
    if (action === "list") {
      const { tokens: list } = await client.request<{ tokens: Principal[] }>("GET", "/api/v1/tokens");
      if (values.json) printJson({ tokens: list });
      else
        process.stdout.write(
          `${table(
            ["ID", "NAME", "ROLE", "ENV"],
            list.map((t) => [t.tokenId, t.name, t.role, t.environment]),
          )}\n`,
        );
      return 0;
    }
    if (action === "revoke") {
      const id = requirePositional(tokens, positionals, 1, "ID");
      await client.request("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`);
      process.stdout.write(`revoked ${id}\n`);
      return 0;
    }
    throw new GantryError("BAD_REQUEST", `unknown action "${action}"\nusage: ${tokens.usage}`);
  },
};
