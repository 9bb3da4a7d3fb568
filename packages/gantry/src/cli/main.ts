import { isGantryError } from "../errors/index.ts";
import { type Command, parse } from "./command.ts";
import { apply } from "./commands/apply.ts";
import { audit } from "./commands/audit.ts";
import { deploy } from "./commands/deploy.ts";
import { experiments } from "./commands/experiments.ts";
import { flags } from "./commands/flags.ts";
import { approve, freeze } from "./commands/freeze.ts";
import { history } from "./commands/history.ts";
import { incidents } from "./commands/incidents.ts";
import { logs } from "./commands/logs.ts";
import { oncall } from "./commands/oncall.ts";
import { pin } from "./commands/pin.ts";
import { abort, pauseRollout, promote, resumeRollout } from "./commands/promote.ts";
import { rollback } from "./commands/rollback.ts";
import { slo } from "./commands/slo.ts";
import { status } from "./commands/status.ts";
import { breaker, lock, mode, unlock } from "./commands/switches.ts";
import { tokens } from "./commands/tokens.ts";
import { up } from "./commands/up.ts";
import { exitCodeFor, exitCodes } from "./exit-codes.ts";

const commands: Command[] = [
  up,
  deploy,
  rollback,
  promote,
  pauseRollout,
  resumeRollout,
  abort,
  pin,
  approve,
  status,
  history,
  audit,
  logs,
  mode,
  breaker,
  lock,
  unlock,
  freeze,
  experiments,
  flags,
  apply,
  slo,
  incidents,
  oncall,
  tokens,
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "gantry: safe changes to production — deploys that never drop a request, instant rollback.",
    "",
    "usage: gantry COMMAND [options]   (gantry COMMAND --help for its options)",
    "",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Docs: docs/getting-started.md, docs/cli.md (exit codes and --json formats).",
  ].join("\n");
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${overview()}\n`);
    return name ? exitCodes.ok : exitCodes.usage;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`gantry: unknown command "${name}"\n\n${overview()}\n`);
    return exitCodes.usage;
  }
  try {
    const { values, positionals } = parse(command, rest);
    if (values.help) {
      process.stdout.write(`usage: ${command.usage}\n\n${command.help}\n`);
      return exitCodes.ok;
    }
    return await command.run(values, positionals);
  } catch (error) {
    if (isGantryError(error)) {
      process.stderr.write(`gantry ${name}: ${error.message} [${error.code}]\n`);
      return exitCodeFor(error.code);
    }
    process.stderr.write(`gantry ${name}: internal error: ${(error as Error).stack ?? error}\n`);
    return exitCodes.internal;
  }
}

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2));
}
