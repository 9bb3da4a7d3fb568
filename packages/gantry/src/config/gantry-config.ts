import { z } from "zod";
import { flagsSpec } from "./flags-spec.ts";
import { freezeSpec } from "./freeze-spec.ts";
import { serviceName, serviceSpec } from "./service-spec.ts";

const port = z.number().int().min(0).max(65535);

export const serverSpec = z
  .object({
    apiHost: z.string().default("127.0.0.1"),
    apiPort: port.default(7070),
    routerHost: z.string().default("127.0.0.1"),
    routerPort: port.default(8080),
    /** The router's admin port; always bound to 127.0.0.1. */
    routerAdminPort: port.default(7071),
  })
  .strict();

/** The whole of gantry.yaml. */
export const gantryConfig = z
  .object({
    server: serverSpec.default(serverSpec.parse({})),
    services: z.record(serviceName, serviceSpec).default({}),
    /** Release freezes: deploys are refused while one is in force (rollbacks never are). */
    freezes: z.array(freezeSpec).default([]),
    /** Feature flags: environments (and definitions that `gantry apply` syncs). */
    flags: flagsSpec.default(flagsSpec.parse({})),
  })
  .strict();

export type GantryConfig = z.output<typeof gantryConfig>;
export type ServerSpec = z.output<typeof serverSpec>;
