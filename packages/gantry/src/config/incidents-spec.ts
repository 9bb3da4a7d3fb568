import { z } from "zod";
import { duration } from "./duration.ts";

/** gantry.yaml `incidents:`. */
export const incidentsSpec = z
  .object({
    /** Changes (deploys, flag flips, mode switches…) this long before an incident starts go on its timeline. */
    changesBefore: duration.default(3_600_000),
  })
  .strict();
export type IncidentsSpec = z.output<typeof incidentsSpec>;
