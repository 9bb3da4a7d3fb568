/** How often one variant of a flag was served in one environment, and when first and last. */
export interface UsageRow {
  flagKey: string;
  environment: string;
  variant: string;
  count: number;
  firstAt: string;
  lastAt: string;
}

/** A flag's lifecycle: when it was last evaluated and what it served where. */
export interface FlagLifecycle {
  lastEvaluatedAt: string | null;
  /** environment → variant → count and last time served. */
  served: Record<string, Record<string, { count: number; firstAt: string; lastAt: string }>>;
}

export function lifecycleOf(rows: readonly UsageRow[]): FlagLifecycle {
  const served: FlagLifecycle["served"] = {};
  let last: string | null = null;
  for (const r of rows) {
    served[r.environment] ??= {};
    served[r.environment]![r.variant] = { count: r.count, firstAt: r.firstAt, lastAt: r.lastAt };
    if (last === null || r.lastAt > last) last = r.lastAt;
  }
  return { lastEvaluatedAt: last, served };
}

export type StaleReason = "never-evaluated" | "not-evaluated" | "one-variant";

export interface StaleFlag {
  flagKey: string;
  reason: StaleReason;
  /** A sentence for people: what makes it stale. */
  detail: string;
  lastEvaluatedAt: string | null;
  /** For one-variant: the variant it served everywhere. */
  variant?: string;
}

const DAY = 86_400_000;

/**
 * Flags that look finished with, given `days`: created that long ago and never evaluated;
 * not evaluated for that long; or evaluated throughout that time but serving only one
 * variant in every environment (the other branch of the code is dead).
 */
export function staleFlags(input: {
  flags: readonly { key: string; createdAt: string }[];
  usage: readonly UsageRow[];
  now: Date;
  days: number;
}): StaleFlag[] {
  const cutoff = new Date(input.now.getTime() - input.days * DAY).toISOString();
  const byFlag = new Map<string, UsageRow[]>();
  for (const row of input.usage) byFlag.set(row.flagKey, [...(byFlag.get(row.flagKey) ?? []), row]);
  const found: StaleFlag[] = [];
  for (const flag of [...input.flags].sort((a, b) => a.key.localeCompare(b.key))) {
    const rows = byFlag.get(flag.key) ?? [];
    if (rows.length === 0) {
      if (flag.createdAt <= cutoff)
        found.push({
          flagKey: flag.key,
          reason: "never-evaluated",
          detail: `never evaluated since it was created ${daysAgo(flag.createdAt, input.now)} days ago`,
          lastEvaluatedAt: null,
        });
      continue;
    }
    const { lastEvaluatedAt } = lifecycleOf(rows);
    if (lastEvaluatedAt! < cutoff) {
      found.push({
        flagKey: flag.key,
        reason: "not-evaluated",
        detail: `not evaluated for ${daysAgo(lastEvaluatedAt!, input.now)} days`,
        lastEvaluatedAt,
      });
      continue;
    }
    const recent = new Set(rows.filter((r) => r.lastAt >= cutoff).map((r) => r.variant));
    const firstAt = rows.map((r) => r.firstAt).sort()[0]!;
    if (recent.size === 1 && firstAt <= cutoff) {
      const [variant] = recent;
      const environments = [...new Set(rows.map((r) => r.environment))].sort().join(", ");
      found.push({
        flagKey: flag.key,
        reason: "one-variant",
        detail: `served only "${variant}" (in ${environments}) for at least ${input.days} days`,
        lastEvaluatedAt,
        variant: variant!,
      });
    }
  }
  return found;
}

function daysAgo(iso: string, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(iso)) / DAY);
}
