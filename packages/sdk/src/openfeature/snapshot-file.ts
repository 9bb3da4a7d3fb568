import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseRuleSet, type RuleSet } from "./rule-set.ts";

/** The snapshot format's version; a file with another one is not read. */
const FORMAT = 1;

export type SnapshotRead =
  | { kind: "missing" }
  | { kind: "ok"; ruleSet: RuleSet; savedAt: string }
  | { kind: "unusable"; message: string };

/**
 * Reads a snapshot written by `SnapshotWriter`. A missing file is the first start, not a
 * problem; anything else that is not a good flag set (unreadable, truncated, edited into
 * an invalid set, another format) comes back as `unusable` with the reason. Never throws.
 */
export async function readSnapshot(file: string): Promise<SnapshotRead> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    return { kind: "unusable", message: `snapshot ${file} cannot be read: ${(error as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: "unusable", message: `snapshot ${file} is not valid JSON: ${(error as Error).message}` };
  }
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (record.gantrySnapshot !== FORMAT) {
    return {
      kind: "unusable",
      message: `snapshot ${file}: gantrySnapshot is ${JSON.stringify(record.gantrySnapshot)}, expected ${FORMAT}; it is not a snapshot this SDK wrote`,
    };
  }
  const parsed = parseRuleSet(record);
  if (!parsed.ok) return { kind: "unusable", message: `snapshot ${file}: ${parsed.message}` };
  return { kind: "ok", ruleSet: parsed.ruleSet, savedAt: String(record.savedAt) };
}

/**
 * Writes each new good rule set to the snapshot file, atomically: a temporary file in the
 * same directory, flushed to disk, then renamed over the old one, so a crash mid-write
 * leaves the previous snapshot, never half of one. Writes run one at a time off the
 * caller's path; a burst of changes writes only the newest.
 */
export class SnapshotWriter {
  readonly #file: string;
  readonly #onError: (message: string) => void;
  #next: RuleSet | undefined;
  #running: Promise<void> | undefined;
  #sequence = 0;

  constructor(file: string, onError: (message: string) => void) {
    this.#file = file;
    this.#onError = onError;
  }

  write(ruleSet: RuleSet): void {
    this.#next = ruleSet;
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once every write asked for so far is done (or has failed and been reported). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    for (let ruleSet = this.#next; ruleSet !== undefined; ruleSet = this.#next) {
      this.#next = undefined;
      try {
        await this.#writeAtomically(snapshotText(ruleSet));
      } catch (error) {
        this.#onError(`could not write snapshot ${this.#file}: ${(error as Error).message}`);
      }
    }
  }

  async #writeAtomically(text: string): Promise<void> {
    const directory = dirname(this.#file);
    await mkdir(directory, { recursive: true });
    const temporary = join(directory, `.${basename(this.#file)}.${process.pid}.${++this.#sequence}.tmp`);
    try {
      const handle = await open(temporary, "w", 0o600);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.#file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}

function snapshotText(ruleSet: RuleSet): string {
  return JSON.stringify({
    gantrySnapshot: FORMAT,
    savedAt: new Date().toISOString(),
    environment: ruleSet.environment,
    revision: ruleSet.revision,
    flagSet: ruleSet.compiled.source,
  });
}
