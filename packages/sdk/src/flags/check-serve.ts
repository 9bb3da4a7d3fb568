import { BUCKETS, isBucketAligned, weightInBuckets } from "./bucket.ts";
import type { Report } from "./check-clause.ts";
import type { Flag, FlagType, Serve } from "./model.ts";

/** A rule or fallthrough serves exactly one variant or one split over known variants. */
export function checkServe(flag: Flag, serve: Serve, path: string, report: Report): void {
  if (serve.variant === undefined && serve.split === undefined) {
    report(
      path,
      'serve a variant ("variant": "on") or a split ("split": [{ "variant": "on", "weight": 50 }, ...])',
    );
  } else if (serve.variant !== undefined && serve.split !== undefined) {
    report(path, "give either variant or split, not both");
  }
  if (serve.variant !== undefined) knownVariant(flag, serve.variant, `${path}.variant`, report);
  if (serve.split === undefined) {
    if (serve.bucketBy !== undefined) report(`${path}.bucketBy`, "bucketBy applies only to a split");
    if (serve.salt !== undefined) report(`${path}.salt`, "salt applies only to a split");
    return;
  }
  checkSplit(flag, serve.split, `${path}.split`, report);
}

function checkSplit(flag: Flag, split: NonNullable<Serve["split"]>, path: string, report: Report): void {
  const seen = new Set<string>();
  let total = 0;
  split.forEach(({ variant, weight }, i) => {
    knownVariant(flag, variant, `${path}[${i}].variant`, report);
    if (seen.has(variant)) report(`${path}[${i}].variant`, `variant "${variant}" appears twice in the split`);
    seen.add(variant);
    if (!isBucketAligned(weight)) {
      report(
        `${path}[${i}].weight`,
        `weight ${weight} has more than three decimals (0.001 % is the finest step)`,
      );
    }
    total += weightInBuckets(weight);
  });
  if (total !== BUCKETS) {
    report(path, `weights add up to ${(total * 100) / BUCKETS}; they must add up to 100 (percent)`);
  }
}

export function knownVariant(flag: Flag, variant: string, path: string, report: Report): void {
  if (Object.hasOwn(flag.variants, variant)) return;
  const names = Object.keys(flag.variants).join(", ") || "none";
  report(path, `unknown variant "${variant}"; the flag's variants are: ${names}`);
}

export function checkVariantValue(type: FlagType, value: unknown, path: string, report: Report): void {
  const fits =
    type === "object"
      ? typeof value === "object" && value !== null
      : type === "number"
        ? typeof value === "number" && Number.isFinite(value)
        : typeof value === type;
  if (!fits) report(path, `${describe(value)} is not a ${type}, the flag's type`);
  else if (type === "object" && describe(value) === CIRCULAR) report(path, "is not JSON: it contains itself");
}

const CIRCULAR = "a value that contains itself";

function describe(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return CIRCULAR;
  }
}
