// npm run bench:flags — local flag evaluation of @gantry/sdk against the `unleash-client`
// npm package, same run, same 100 flags (a constraint and a sticky 50% rollout each), same
// users. Both SDKs load their flags over HTTP from a local in-process server (no internet),
// keep their connection and report their evaluation counts as they ship. Then, when
// bench/flags/ofrep.ts exists, OFREP bulk evaluation against a real Gantry. Prints a table;
// the last line is the headline.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { GantryProvider } from "@gantry/sdk/openfeature";
import { OpenFeature, type Provider, type ResolutionDetails } from "@openfeature/server-sdk";
import { InMemStorageProvider, Unleash } from "unleash-client";
import { evaluate } from "../../packages/sdk/src/flags/index.ts";
import { parseRuleSetText } from "../../packages/sdk/src/openfeature/rule-set.ts";
import { NoiseMeter, waitForOtherBenchmarks } from "../router/processes.ts";
import { BenchFeeds } from "./feeds.ts";
import { FLAG_COUNT, flagKeys, gantryBody, USER_COUNT, users } from "./flag-sets.ts";
import { type BenchCase, measure } from "./measure.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 100);
const LATENCY_CALLS = Number(process.env.BENCH_LATENCY_CALLS ?? 200_000);
const TARGET = 4;
const OFREP_TARGET_MS = 5;

await waitForOtherBenchmarks();

const feeds = new BenchFeeds();
await feeds.start();

// Gantry: the OpenFeature provider, as an application uses it.
const provider = new GantryProvider({ baseUrl: feeds.url, token: "bench", reportIntervalMs: 1000 });
await OpenFeature.setProviderAndWait("gantry", provider);
const gantryClient = OpenFeature.getClient("gantry");

// unleash-client with its defaults (metrics on, every 60 s... here 1 s like Gantry's reports).
const unleash = new Unleash({
  appName: "bench",
  url: `${feeds.url}/api/`,
  refreshInterval: 60_000,
  metricsInterval: 1000,
  storageProvider: new InMemStorageProvider(),
  skipInstanceCountWarning: true,
});
await new Promise<void>((resolve, reject) => {
  unleash.once("synchronized", () => resolve());
  unleash.once("error", reject);
});
if (unleash.getFeatureToggleDefinitions().length !== FLAG_COUNT)
  throw new Error("unleash did not load the flags");

/**
 * unleash-client has no OpenFeature server provider; this adapter (the least one can write)
 * shows what the OpenFeature client itself costs on top of an SDK, for either SDK.
 */
const unleashAdapter: Provider = {
  metadata: { name: "unleash-adapter" },
  runsOn: "server",
  resolveBooleanEvaluation(flagKey, defaultValue, context): Promise<ResolutionDetails<boolean>> {
    const ctx = { userId: context.targetingKey, properties: { country: String(context.country) } };
    return Promise.resolve({ value: unleash.isEnabled(flagKey, ctx, defaultValue) });
  },
  resolveStringEvaluation: (_k, defaultValue) => Promise.resolve({ value: defaultValue }),
  resolveNumberEvaluation: (_k, defaultValue) => Promise.resolve({ value: defaultValue }),
  resolveObjectEvaluation: (_k, defaultValue) => Promise.resolve({ value: defaultValue }),
};
await OpenFeature.setProviderAndWait("unleash", unleashAdapter);
const unleashClient = OpenFeature.getClient("unleash");

// The shared evaluator on its own, on the same flag set.
const parsed = parseRuleSetText(gantryBody());
if (!parsed.ok) throw new Error(parsed.message);
const compiled = parsed.ruleSet.compiled;

// Contexts built once, in each SDK's own shape.
const gantryContexts = users.map((u) => ({ targetingKey: u.id, country: u.country }));
const unleashContexts = users.map((u) => ({ userId: u.id, properties: { country: u.country } }));
const flagOf = (i: number) => flagKeys[i % FLAG_COUNT]!;
const userOf = (i: number) => (i * 7) % USER_COUNT;

const cases: BenchCase[] = [
  {
    name: "gantry: OpenFeature client (GantryProvider)",
    async: true,
    run: (i) => gantryClient.getBooleanValue(flagOf(i), false, gantryContexts[userOf(i)]),
  },
  {
    name: "gantry: GantryProvider.getValue (sync)",
    async: false,
    run: (i) => provider.getValue(flagOf(i), false, gantryContexts[userOf(i)]),
  },
  {
    name: "unleash-client: isEnabled",
    async: false,
    run: (i) => unleash.isEnabled(flagOf(i), unleashContexts[userOf(i)], false),
  },
  {
    name: "gantry: evaluate() (shared evaluator, sync)",
    async: false,
    run: (i) => evaluate(compiled, flagOf(i), "production", gantryContexts[userOf(i)]).value === true,
  },
  {
    name: "unleash-client via OpenFeature (adapter)",
    async: true,
    run: (i) => unleashClient.getBooleanValue(flagOf(i), false, gantryContexts[userOf(i)]),
  },
  {
    name: "timer only (latency floor)",
    async: false,
    run: (i) => (i & 3) === 0,
  },
];

const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
console.log(
  `node ${process.version}, ${cpus().length} cores (${cpu}), unleash-client ${unleashVersion()}, ` +
    `${FLAG_COUNT} flags x ${USER_COUNT} users; ${ROUNDS} rounds of ~${ROUND_MS} ms a case (median), ` +
    `latency over ${LATENCY_CALLS} single timed evaluations`,
);
const noise = new NoiseMeter();
const results = await measure(cases, { rounds: ROUNDS, roundMs: ROUND_MS, latencyCalls: LATENCY_CALLS });
const noiseCores = noise.cores();
console.log(
  `${"case".padEnd(46)} ${"evals/s".padStart(11)} ${"best round".padStart(11)} ${"p50 µs".padStart(8)} ${"p99 µs".padStart(8)} ` +
    `${"p99.9 µs".padStart(9)} ${"on".padStart(6)}`,
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(46)} ${Math.round(r.perSecond).toLocaleString("en").padStart(11)} ` +
      `${Math.round(r.bestPerSecond).toLocaleString("en").padStart(11)} ` +
      `${r.p50Us.toFixed(2).padStart(8)} ${r.p99Us.toFixed(2).padStart(8)} ${r.p999Us.toFixed(2).padStart(9)} ` +
      `${(r.onShare * 100).toFixed(1).padStart(5)}%`,
  );
}

console.log(
  `other processes used ${noiseCores.toFixed(2)} cores meanwhile (of ${cpus().length}; above ~0.5 compare ratios, not rates)`,
);

// Both SDKs did their usual background work meanwhile: reports and metrics reached the feed.
await provider.flushEvaluations();
await unleash.flushMetrics();
const stats = provider.stats();
const by = (name: string) => results.find((r) => r.name.startsWith(name))!;
const gantryRan = by("gantry: OpenFeature").evaluations + by("gantry: GantryProvider").evaluations;
const unleashRan = by("unleash-client: isEnabled").evaluations + by("unleash-client via").evaluations;
console.log(
  `background: each SDK counted its evaluations and reported the counts to the feed: gantry ` +
    `${feeds.gantryCounted.toLocaleString("en")} of ${gantryRan.toLocaleString("en")} (${stats.evaluationsDropped} dropped), ` +
    `unleash ${feeds.unleashCounted.toLocaleString("en")} of ${unleashRan.toLocaleString("en")}`,
);

const unleashRate = by("unleash-client: isEnabled").perSecond;
const sdkRatio = by("gantry: GantryProvider").perSecond / unleashRate;
const rawRatio = by("gantry: evaluate()").perSecond / unleashRate;
const viaOpenFeature = by("gantry: OpenFeature").perSecond / unleashRate;
const bothOpenFeature = by("gantry: OpenFeature").perSecond / by("unleash-client via").perSecond;
const bestRatio = by("gantry: GantryProvider").bestPerSecond / by("unleash-client: isEnabled").bestPerSecond;
const p99 = (name: string) => `${by(name).p99Us.toFixed(2)} µs`;
console.log(
  `p99: gantry sync ${p99("gantry: GantryProvider")}, raw ${p99("gantry: evaluate()")}, via OpenFeature ` +
    `${p99("gantry: OpenFeature")}; unleash isEnabled ${p99("unleash-client: isEnabled")}, via OpenFeature ` +
    `${p99("unleash-client via")}`,
);
console.log(
  `through the OpenFeature client: gantry/unleash-adapter ${bothOpenFeature.toFixed(2)}x, ` +
    `gantry via OpenFeature/unleash isEnabled ${viaOpenFeature.toFixed(2)}x (the OpenFeature client's own cost dominates)`,
);

await OpenFeature.close();
unleash.destroy();
await feeds.stop();

const ofrep = await runOfrep();
const headline =
  `flags: @gantry/sdk/unleash-client evaluations/s ${sdkRatio.toFixed(2)}x (best rounds ${bestRatio.toFixed(2)}x; target >= ${TARGET}x; ` +
  `raw evaluator ${rawRatio.toFixed(2)}x, both via OpenFeature ${bothOpenFeature.toFixed(2)}x), ` +
  `p99 ${p99("gantry: GantryProvider")} vs ${p99("unleash-client: isEnabled")}, noise ${noiseCores.toFixed(2)} cores` +
  (ofrep ? `; ${ofrep}` : "; OFREP: bench/flags/ofrep.ts not present");
console.log(headline);

/** OFREP bulk evaluation, measured by bench/flags/ofrep.ts (written alongside the OFREP endpoints). */
async function runOfrep(): Promise<string | undefined> {
  const file = join(import.meta.dirname, "ofrep.ts");
  if (!existsSync(file)) return undefined;
  const module = (await import(file)) as { runOfrepBench?: () => Promise<unknown> };
  if (typeof module.runOfrepBench !== "function") return "OFREP: ofrep.ts exports no runOfrepBench()";
  console.log("\nOFREP bulk evaluation (bench/flags/ofrep.ts):");
  try {
    return summarizeOfrep(await module.runOfrepBench());
  } catch (error) {
    // The local figures above stand; say why the OFREP part has none.
    console.log(`  failed: ${(error as Error).message}`);
    return `OFREP: failed (${(error as Error).message.split("\n")[0]})`;
  }
}

/** Prints what it measured; returns the OFREP part of the headline (p99 against the 5 ms target). */
function summarizeOfrep(result: unknown): string {
  if (typeof result !== "object" || result === null) return `OFREP: ${String(result)}`;
  const r = result as Record<string, unknown>;
  for (const [key, value] of Object.entries(r)) {
    if (key === "headline") continue;
    console.log(`  ${key}: ${typeof value === "number" ? Number(value.toFixed(3)) : JSON.stringify(value)}`);
  }
  if (typeof r.headline === "string") console.log(`  ${r.headline}`);
  const p99 = typeof r.p99 === "number" ? r.p99 : r.p99Ms;
  if (typeof p99 !== "number") return typeof r.headline === "string" ? r.headline : "OFREP: no p99 given";
  const rate = typeof r.rate === "number" ? ` at ${r.rate} req/s` : "";
  const verdict = p99 < OFREP_TARGET_MS ? "met" : "MISSED";
  return (
    `OFREP bulk of ${r.flags ?? "?"} flags${rate}: p99 ${p99.toFixed(2)} ms ` +
    `(target < ${OFREP_TARGET_MS} ms: ${verdict}, target/p99 ${(OFREP_TARGET_MS / p99).toFixed(2)}x)`
  );
}

function unleashVersion(): string {
  try {
    return execFileSync(process.execPath, ["-p", "require('unleash-client/package.json').version"], {
      encoding: "utf8",
    }).trim();
  } catch {
    return "?";
  }
}
