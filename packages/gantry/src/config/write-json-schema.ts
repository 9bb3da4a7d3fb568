import { writeFileSync } from "node:fs";
import { gantryConfigJsonSchema } from "./json-schema.ts";

/** `npm run schema`: writes docs/gantry.schema.json from the one config schema. */
const target = new URL("../../../../docs/gantry.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(gantryConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
