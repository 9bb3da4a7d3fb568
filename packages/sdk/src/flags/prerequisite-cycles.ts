import { type Environment, type FlagSet, own } from "./model.ts";
import type { FlagSetIssue } from "./types.ts";

/**
 * Prerequisite cycles, per environment (prerequisites are set per environment), each
 * reported once at the prerequisite that closes it, named in full: "a → b → a".
 */
export function prerequisiteCycles(set: FlagSet): FlagSetIssue[] {
  const issues: FlagSetIssue[] = [];
  for (const environment of environmentNames(set)) {
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (flagKey: string): void => {
      state.set(flagKey, "visiting");
      stack.push(flagKey);
      const prerequisites = environmentOf(set, flagKey, environment)?.prerequisites ?? [];
      prerequisites.forEach((prerequisite, index) => {
        const next = prerequisite.flagKey;
        if (!environmentOf(set, next, environment)) return;
        if (state.get(next) === "visiting") {
          const cycle = [...stack.slice(stack.indexOf(next)), next];
          issues.push({
            path: `flags.${flagKey}.environments.${environment}.prerequisites[${index}].flagKey`,
            message: `prerequisite cycle in ${environment}: ${cycle.join(" → ")}; remove one of these prerequisites`,
          });
        } else if (!state.has(next)) {
          visit(next);
        }
      });
      stack.pop();
      state.set(flagKey, "done");
    };
    for (const flagKey of Object.keys(set.flags).sort()) {
      if (environmentOf(set, flagKey, environment) && !state.has(flagKey)) visit(flagKey);
    }
  }
  return issues;
}

function environmentOf(set: FlagSet, flagKey: string, environment: string): Environment | undefined {
  const flag = own(set.flags, flagKey);
  return flag ? own(flag.environments, environment) : undefined;
}

function environmentNames(set: FlagSet): string[] {
  const names = new Set<string>();
  for (const flag of Object.values(set.flags))
    for (const name of Object.keys(flag.environments)) names.add(name);
  return [...names].sort();
}
