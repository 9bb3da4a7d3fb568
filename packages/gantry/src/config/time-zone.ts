import { z } from "zod";
import { isTimeZone } from "../time/index.ts";

export const timeZone = z.string().refine(isTimeZone, {
  message: "not a time zone Node knows; use an IANA name such as Europe/Berlin or UTC",
});
