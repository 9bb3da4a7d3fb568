import { GantryError } from "../../errors/index.ts";
import type { Switches } from "../../services/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson } from "../render.ts";

/** POSTs (or DELETEs) one switch of a service and prints what it now is. */
async function flip(
  values: Record<string, unknown>,
  method: "POST" | "DELETE",
  path: string,
  body: unknown,
  done: string,
): Promise<number> {
  const client = clientFrom(values);
  const result = await client.request<{ service: string; switches: Switches }>(method, path, body);
  if (values.json) printJson(result);
  else process.stdout.write(`${done}\n`);
  return 0;
}

const servicePath = (service: string, what: string) =>
  `/api/v1/services/${encodeURIComponent(service)}/${what}`;

export const mode: Command = {
  name: "mode",
  usage: "gantry mode SERVICE read-only|maintenance|normal [--for 30m] [--reason TEXT]",
  summary: "switch a service to read-only or maintenance mode, and back",
  help: `A switch, not a redeploy; the router applies it at once.

  read-only     writes (POST, PUT, PATCH, DELETE) get 503 with Retry-After and a JSON or
                HTML body by the Accept header; reads flow; paths in readOnly.allowPaths stay
                writable; every proxied request carries X-Gantry-Mode: read-only
  maintenance   every request gets the maintenance page (503 with Retry-After)
  normal        back to normal

  --for D       end by itself after D (30m, 2h), even if the control plane is down
  --reason TEXT for the audit trail
${clientHelp}`,
  options: { ...clientOptions, for: { type: "string" }, reason: { type: "string" } },
  async run(values, positionals) {
    const service = requirePositional(mode, positionals, 0, "SERVICE");
    const target = requirePositional(mode, positionals, 1, "read-only|maintenance|normal");
    if (!["read-only", "maintenance", "normal"].includes(target)) {
      throw new GantryError("BAD_REQUEST", `mode "${target}" is not one of read-only, maintenance, normal`, {
        field: "mode",
      });
    }
    const body = {
      mode: target,
      ...(values.for !== undefined && { for: values.for }),
      ...(values.reason !== undefined && { reason: values.reason }),
    };
    const until = values.for ? ` for ${values.for}` : "";
    return flip(values, "POST", servicePath(service, "mode"), body, `${service} is now ${target}${until}`);
  },
};

export const breaker: Command = {
  name: "breaker",
  usage: "gantry breaker SERVICE open|close|auto [--reason TEXT]",
  summary: "hold a service's circuit breaker open or closed, or let it work again",
  help: `open: the router sends no request to the service's instances (its fallback answers, or 503),
e.g. ahead of a risky change instead of waiting for failures. close: held closed whatever
fails. auto: the breaker opens and closes by itself again (service.breaker settings).
${clientHelp}`,
  options: { ...clientOptions, reason: { type: "string" } },
  async run(values, positionals) {
    const service = requirePositional(breaker, positionals, 0, "SERVICE");
    const action = requirePositional(breaker, positionals, 1, "open|close|auto");
    const state = { open: "open", close: "closed", auto: "auto" }[action];
    if (!state)
      throw new GantryError("BAD_REQUEST", `"${action}" is not one of open, close, auto`, { field: "state" });
    const body = { state, ...(values.reason !== undefined && { reason: values.reason }) };
    return flip(
      values,
      "POST",
      servicePath(service, "breaker"),
      body,
      `${service}: breaker ${state === "auto" ? "works by itself again" : `held ${state}`}`,
    );
  },
};

export const lock: Command = {
  name: "lock",
  usage: "gantry lock SERVICE --reason TEXT",
  summary: "refuse deploys of a service until it is unlocked (rollbacks still work)",
  help: `The lock and its reason show in gantry status; an admin may deploy anyway with
gantry deploy --override --reason.
${clientHelp}`,
  options: { ...clientOptions, reason: { type: "string" } },
  async run(values, positionals) {
    const service = requirePositional(lock, positionals, 0, "SERVICE");
    if (!values.reason)
      throw new GantryError("BAD_REQUEST", "--reason is required: say why deploys are locked", {
        field: "reason",
      });
    return flip(
      values,
      "POST",
      servicePath(service, "lock"),
      { reason: values.reason },
      `${service} is locked: ${values.reason}`,
    );
  },
};

export const unlock: Command = {
  name: "unlock",
  usage: "gantry unlock SERVICE",
  summary: "allow deploys of a locked service again",
  help: clientHelp,
  options: clientOptions,
  async run(values, positionals) {
    const service = requirePositional(unlock, positionals, 0, "SERVICE");
    return flip(values, "DELETE", servicePath(service, "lock"), undefined, `${service} is unlocked`);
  },
};
