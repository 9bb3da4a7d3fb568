import { type ParseArgsConfig, parseArgs } from "node:util";
import { GantryError } from "../errors/index.ts";

export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** The full --help text after the usage line. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** Options every API command takes. */
export const clientOptions = {
  "data-dir": { type: "string" },
  api: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export const clientHelp = `  --data-dir DIR   where \`gantry up\` keeps its state (default ./.gantry; GANTRY_DATA_DIR)
  --api URL        the API to talk to (default: from DIR/api.json; GANTRY_API)
                   the token comes from GANTRY_TOKEN, else DIR/token`;

export function parse(
  command: Command,
  argv: string[],
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    throw new GantryError(
      "BAD_REQUEST",
      `${(error as Error).message}\nusage: ${command.usage}  (see gantry ${command.name} --help)`,
    );
  }
}

export function requirePositional(
  command: Command,
  positionals: string[],
  index: number,
  name: string,
): string {
  const value = positionals[index];
  if (value === undefined)
    throw new GantryError("BAD_REQUEST", `missing ${name}\nusage: ${command.usage}`, { field: name });
  return value;
}
