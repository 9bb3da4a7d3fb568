import type { Principal } from "../auth/index.ts";
import { GantryError } from "../errors/index.ts";

/**
 * The environment a caller reads flags of: an sdk token's own (it may name no other); for
 * people, the one they name (`?env=`). An sdk token bound to none gets a 403 that says how
 * to make one that is.
 */
export function environmentFor(principal: Principal, requested: string | undefined): string {
  if (principal.role === "sdk") {
    if (principal.environment === undefined)
      throw new GantryError(
        "FORBIDDEN",
        `sdk token "${principal.name}" is bound to no flag environment; create one that is with \`gantry tokens create --role sdk --env ENV\``,
      );
    if (requested !== undefined && requested !== principal.environment)
      throw new GantryError(
        "FORBIDDEN",
        `sdk token "${principal.name}" reads the flags of ${principal.environment}, not ${requested}`,
        { field: "env" },
      );
    return principal.environment;
  }
  if (requested === undefined || requested === "")
    throw new GantryError(
      "BAD_REQUEST",
      "name the flag environment with ?env=NAME (an sdk token names its own)",
      {
        field: "env",
      },
    );
  return requested;
}

/** Whether an If-None-Match header names this ETag (lists, weak tags and * included). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === etag || t === "*");
}
