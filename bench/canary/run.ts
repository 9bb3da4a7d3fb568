// npm run bench:canary — how fast Gantry takes a bad canary back to stable, and what it costs
// users, for a canary with 20% 5xx and one 200 ms slower, each at a 5% weight step under
// 400 requests/s; beside it, the same traffic judged with Flagger's defaults (a 1-minute
// interval, 5 failed checks to roll back, success rate >= 99%, p99 <= 500 ms); then healthy
// canaries, none of which may be aborted. The last line is the headline.
//
// Environment: BENCH_RPS (400), BENCH_HEALTHY_RUNS (20), BENCH_HEALTHY_ANALYSIS (20s).
import {
  constantLoad,
  demoApp,
  failures,
  gantry,
  type RunningGantry,
  type Sample,
  up,
} from "../../test/e2e/harness.ts";

const rps = Number(process.env.BENCH_RPS ?? 400);
const healthyRuns = Number(process.env.BENCH_HEALTHY_RUNS ?? 20);
const healthyAnalysis = process.env.BENCH_HEALTHY_ANALYSIS ?? "20s";
const canaryWeight = 5;

/** Flagger's defaults, as its docs and its analysis loop give them. */
const flagger = { intervalS: 60, threshold: 5, minSuccessRate: 0.99, maxP99Ms: 500 };

function config(): string {
  const service = (name: string, steps: string) => `  ${name}:
    command: node server.ts
    instances: 2
    route: { hosts: [${name}.localhost] }
    healthCheck: { path: /healthz, interval: 200ms, timeout: 1s, deadline: 15s }
    stopTimeout: 5s
    strategy: { type: canary, steps: ${steps} }
`;
  return `services:
${service("bad", `[{ setWeight: ${canaryWeight} }, { analysis: 60s }, { setWeight: 25 }, { analysis: 60s }, { setWeight: 50 }, { analysis: 60s }]`)}${service("calm", `[{ setWeight: ${canaryWeight} }, { analysis: ${healthyAnalysis} }]`)}`;
}

async function deploy(g: RunningGantry, service: string, version: string, env: string[] = []) {
  const args = ["deploy", service, "--artifact", demoApp, "--version", version, "--wait"];
  for (const e of env) args.push("--env", e);
  return gantry(g.dataDir, args);
}

interface BadRun {
  name: string;
  /** First canary answer to the last one sent: how long users could meet the canary. */
  canarySeconds: number;
  /** Failed requests over the whole rollout (deploy command start to end), of all requests. */
  failedShare: number;
  canaryShare: number;
  canaryErrorRate: number;
  canaryP99Ms: number;
  stableP99Ms: number;
  rolloutSeconds: number;
  verdict: string;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
}

async function badCanary(g: RunningGantry, name: string, version: string, env: string): Promise<BadRun> {
  const load = constantLoad({ url: g.routerUrl, host: "bad.localhost", rps });
  await new Promise((r) => setTimeout(r, 1000));
  const start = Date.now();
  const deployed = await deploy(g, "bad", version, [env]);
  const end = Date.now();
  await new Promise((r) => setTimeout(r, 500));
  const samples = await load.stop();
  if (deployed.code === 0) throw new Error(`${name}: the canary was promoted:\n${deployed.stdout}`);
  const canary = samples.filter((s) => s.version === version);
  if (canary.length === 0) throw new Error(`${name}: no request reached the canary`);
  const stable = samples.filter((s) => s.version === "v1");
  const during = samples.filter((s) => s.at >= start && s.at <= end);
  const status = JSON.parse((await gantry(g.dataDir, ["status", "bad", "--json"])).stdout).services[0];
  return {
    name,
    canarySeconds: (canary.at(-1)!.at - canary[0]!.at) / 1000,
    failedShare: failures(during).length / during.length,
    canaryShare:
      canary.length / samples.filter((s) => s.at >= canary[0]!.at && s.at <= canary.at(-1)!.at).length,
    canaryErrorRate: failures(canary).length / canary.length,
    canaryP99Ms: p99(canary.map((s) => s.latencyMs)),
    stableP99Ms: p99(stable.map((s) => s.latencyMs)),
    rolloutSeconds: (end - start) / 1000,
    verdict: status.lastRollout?.failure ?? "(none)",
  };
}

/**
 * The same canary judged as Flagger judges by default: every interval, a failed check when
 * the success rate is under 99% or p99 over 500 ms; rollback after `threshold` failed checks.
 * Returns the seconds the canary would serve before rollback (null: it would never roll
 * back), and the share of all requests that would fail over that rollout, the canary
 * keeping the error rate and share it had here, the rest of the rollout as long as here.
 */
function flaggerReplay(run: BadRun): { seconds: number | null; failedShare: number | null } {
  const failsCheck = 1 - run.canaryErrorRate < flagger.minSuccessRate || run.canaryP99Ms > flagger.maxP99Ms;
  if (!failsCheck) return { seconds: null, failedShare: null };
  const seconds = flagger.intervalS * flagger.threshold;
  const rest = Math.max(0, run.rolloutSeconds - run.canarySeconds);
  return { seconds, failedShare: (run.canaryShare * run.canaryErrorRate * seconds) / (seconds + rest) };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

async function main(): Promise<void> {
  console.log(
    `canary at ${canaryWeight}% of ${rps} requests/s; Gantry's default analysis (look every 500 ms, α = 0.01, 20 requests minimum)`,
  );
  const g = await up({ config: config() });
  const stop = async () => {
    await g.interrupt();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    for (const service of ["bad", "calm"]) {
      const first = await deploy(g, service, "v1");
      if (first.code !== 0) throw new Error(`deploying ${service} v1 failed:\n${first.stderr}`);
    }
    const runs: BadRun[] = [];
    runs.push(await badCanary(g, "20% 5xx", "v2", "DEMO_FAIL_RATE=0.2"));
    runs.push(await badCanary(g, "+200 ms", "v3", "DEMO_LATENCY_MS=200"));

    console.log(
      "\n| canary | Gantry: canary served for | failed, whole rollout | Flagger defaults: canary served for | failed, whole rollout | Gantry's verdict |",
    );
    console.log("|---|---:|---:|---:|---:|---|");
    for (const run of runs) {
      const f = flaggerReplay(run);
      console.log(
        `| ${run.name} (measured: ${pct(run.canaryErrorRate)} errors, p99 ${run.canaryP99Ms.toFixed(0)} ms vs ${run.stableP99Ms.toFixed(0)} ms) | ${run.canarySeconds.toFixed(1)} s | ${pct(run.failedShare)} | ${f.seconds === null ? "never rolled back" : `${f.seconds} s`} | ${f.failedShare === null ? "-" : pct(f.failedShare)} | ${run.verdict} |`,
      );
    }

    console.log(
      `\n${healthyRuns} healthy canaries (${canaryWeight}% for ${healthyAnalysis} each, judged all along):`,
    );
    let aborted = 0;
    const calm = constantLoad({ url: g.routerUrl, host: "calm.localhost", rps });
    for (let i = 0; i < healthyRuns; i++) {
      const result = await deploy(g, "calm", `h${i + 2}`);
      if (result.code !== 0) {
        aborted++;
        const status = JSON.parse((await gantry(g.dataDir, ["status", "calm", "--json"])).stdout).services[0];
        console.log(`  run ${i + 1}: ABORTED: ${status.lastRollout?.failure}`);
      } else console.log(`  run ${i + 1}: promoted`);
    }
    const calmSamples: Sample[] = await calm.stop();
    console.log(`  ${failures(calmSamples).length} of ${calmSamples.length} requests failed meanwhile`);

    const [errors, slow] = runs as [BadRun, BadRun];
    const fe = flaggerReplay(errors);
    console.log(
      `20% 5xx canary back on stable in ${errors.canarySeconds.toFixed(1)} s with ${pct(errors.failedShare)} of all requests failed (target < 10 s, < 0.5%; Flagger defaults: ${fe.seconds} s, ${fe.failedShare === null ? "-" : pct(fe.failedShare)}); +200 ms canary back in ${slow.canarySeconds.toFixed(1)} s (Flagger defaults: ${flaggerReplay(slow).seconds === null ? "never" : `${flaggerReplay(slow).seconds} s`}); false aborts: ${aborted} of ${healthyRuns} healthy canaries`,
    );
  } finally {
    await stop();
  }
}

await main();
