import { z } from "zod";
import { gantryConfig } from "./gantry-config.ts";

/** The JSON Schema of gantry.yaml, for editors (yaml-language-server) and other tools. */
export function gantryConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(gantryConfig, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: "https://gantry.dev/schemas/gantry.schema.json",
    title: "gantry.yaml",
    description: "Gantry configuration: server ports and the services Gantry deploys.",
  };
}
