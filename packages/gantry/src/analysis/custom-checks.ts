import { spawn } from "node:child_process";
import type { CustomCheckSpec } from "../config/index.ts";
import { instantQuery, prometheusValue } from "../prometheus/index.ts";
import { judgeCeiling } from "./judge.ts";

/** What a custom check is run against. */
export interface CheckContext {
  service: string;
  rollout: number;
  baseline: string;
  candidate: string;
  /** Base URLs (http://127.0.0.1:PORT) of the candidate's ready instances, read at each run. */
  candidateUrls: () => Promise<string[]>;
  /** CPU seconds used so far and resident memory, per instance, by version (from the runtime). */
  resources?: () => Promise<Map<string, ResourceSample[]>>;
  /** A Scientist experiment's all-time counts (undefined before it reported anything). */
  experiment?: (name: string) => Promise<{ matched: number; mismatched: number } | undefined>;
}

export interface ResourceSample {
  instance: string;
  cpuSeconds: number;
  rssBytes: number;
}

export type CheckKind = "prometheus" | "http" | "command" | "webhook" | "resources" | "experiment";

/** One run: pass, fail, or error (could not be had: the check's server down, a timeout). */
export interface CheckOutcome {
  verdict: "pass" | "fail" | "error";
  /** The measured value (Prometheus), when there is one. */
  value: number | null;
  /** One line a person reads. */
  summary: string;
}

/** A check's latest state, as stored on the rollout and shown by `gantry status`. */
export interface CustomCheckResult extends CheckOutcome {
  name: string;
  kind: CheckKind;
  /** The PromQL as sent, for Prometheus checks. */
  query?: string;
  runs: number;
  consecutiveFailures: number;
  consecutiveErrors: number;
  at: string;
}

export function checkKind(spec: CustomCheckSpec): CheckKind {
  if (spec.prometheus) return "prometheus";
  if (spec.http) return "http";
  if (spec.command !== undefined) return "command";
  if (spec.resources) return "resources";
  if (spec.experiment) return "experiment";
  return "webhook";
}

/** `{{service}}`, `{{candidate}}`, `{{baseline}}` and `{{rollout}}` replaced by their values. */
export function renderTemplate(
  text: string,
  c: Pick<CheckContext, "service" | "baseline" | "candidate" | "rollout">,
): string {
  const values: Record<string, string> = {
    service: c.service,
    candidate: c.candidate,
    baseline: c.baseline,
    rollout: String(c.rollout),
  };
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Whether a value keeps its bounds, and the line that says so. */
export function withinBounds(value: number, min: number | undefined, max: number | undefined): CheckOutcome {
  const shown = Number.isInteger(value) ? String(value) : value.toPrecision(4);
  if (min !== undefined && value < min)
    return { verdict: "fail", value, summary: `${shown} is below the minimum ${min}` };
  if (max !== undefined && value > max)
    return { verdict: "fail", value, summary: `${shown} is above the maximum ${max}` };
  const range = [min !== undefined && `≥ ${min}`, max !== undefined && `≤ ${max}`].filter(Boolean).join(", ");
  return { verdict: "pass", value, summary: `${shown} (${range})` };
}

/** What a check remembers between its runs: an experiment's counts when the analysis began. */
export interface CheckMemo {
  experimentStart?: { matched: number; mismatched: number };
}

/** Runs one check once. Never throws: a failure to measure is an `error` outcome. */
export async function runCheck(
  spec: CustomCheckSpec,
  c: CheckContext,
  signal: AbortSignal,
  memo: CheckMemo = {},
): Promise<CheckOutcome> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(spec.timeout)]);
  try {
    if (spec.prometheus) {
      const query = renderTemplate(spec.prometheus.query, c);
      const value = prometheusValue(await instantQuery(spec.prometheus.url, query, { signal: timeout }));
      return withinBounds(value, spec.prometheus.min, spec.prometheus.max);
    }
    if (spec.http) return await probe(spec.http, await c.candidateUrls(), timeout);
    if (spec.command !== undefined) return await command(spec.command, c, timeout);
    if (spec.resources) return await resources(spec.resources, c, timeout);
    if (spec.experiment) return await experiment(spec.experiment, c, memo);
    return await webhook(spec.webhook!, c, timeout);
  } catch (error) {
    const message =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${spec.timeout} ms`
        : (error as Error).message;
    return { verdict: "error", value: null, summary: message };
  }
}

/**
 * GET `url` and check the answer: what is wrong with it (the status or the body), or
 * undefined when it is as expected. A request that gets no answer throws. Shared by the
 * analysis' HTTP checks and blue-green's smoke checks.
 */
export async function httpProbe(
  url: string,
  expect: { expectStatus: number; expectBody?: string | undefined },
  signal: AbortSignal,
): Promise<string | undefined> {
  const response = await fetch(url, { signal });
  const body = await response.text();
  if (response.status !== expect.expectStatus)
    return `status ${response.status}, expected ${expect.expectStatus}`;
  if (expect.expectBody !== undefined && !body.includes(expect.expectBody))
    return `body does not contain ${JSON.stringify(expect.expectBody)}`;
  return undefined;
}

async function probe(
  http: NonNullable<CustomCheckSpec["http"]>,
  urls: string[],
  signal: AbortSignal,
): Promise<CheckOutcome> {
  if (urls.length === 0)
    return { verdict: "error", value: null, summary: "the candidate has no ready instance to probe" };
  for (const base of urls) {
    const problem = await httpProbe(`${base}${http.path}`, http, signal);
    if (problem) return { verdict: "fail", value: null, summary: `${base}${http.path}: ${problem}` };
  }
  return {
    verdict: "pass",
    value: null,
    summary: `GET ${http.path} answered ${http.expectStatus} on ${urls.length} instance(s)`,
  };
}

async function command(run: string, c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  const urls = await c.candidateUrls();
  return new Promise((done) => {
    const child = spawn("/bin/sh", ["-c", run], {
      env: {
        ...process.env,
        GANTRY_SERVICE: c.service,
        GANTRY_CANDIDATE: c.candidate,
        GANTRY_BASELINE: c.baseline,
        GANTRY_ROLLOUT: String(c.rollout),
        GANTRY_CANDIDATE_URLS: urls.join(" "),
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    const keep = (d: Buffer) => {
      output = (output + d.toString("utf8")).slice(-2000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const kill = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Gone already.
      }
    };
    signal.addEventListener("abort", kill, { once: true });
    child.on("error", (error) => done({ verdict: "error", value: null, summary: error.message }));
    child.on("close", (code, sig) => {
      signal.removeEventListener("abort", kill);
      const tail = output.trim().split("\n").slice(-3).join(" | ");
      if (signal.aborted)
        done({
          verdict: "error",
          value: null,
          summary: `stopped before it finished${tail ? `: ${tail}` : ""}`,
        });
      else if (code === 0) done({ verdict: "pass", value: 0, summary: `exit 0${tail ? `: ${tail}` : ""}` });
      else done({ verdict: "fail", value: code, summary: `exit ${code ?? sig}${tail ? `: ${tail}` : ""}` });
    });
  });
}

/** Per-instance CPU (cores, over the time between two readings) and memory, by version. */
export function resourceUse(
  before: Map<string, ResourceSample[]>,
  after: Map<string, ResourceSample[]>,
  seconds: number,
): Map<string, { cpu: number[]; memoryMb: number[] }> {
  const out = new Map<string, { cpu: number[]; memoryMb: number[] }>();
  for (const [version, samples] of after) {
    const earlier = new Map((before.get(version) ?? []).map((s) => [s.instance, s]));
    const use = { cpu: [] as number[], memoryMb: [] as number[] };
    for (const s of samples) {
      const e = earlier.get(s.instance);
      if (e) use.cpu.push(Math.max(0, s.cpuSeconds - e.cpuSeconds) / seconds);
      use.memoryMb.push(s.rssBytes / 1024 / 1024);
    }
    out.set(version, use);
  }
  return out;
}

/** Judges the candidate's instances' CPU and memory: ceilings per instance, and CPU against the baseline's mean. */
export function judgeResources(
  limits: NonNullable<CustomCheckSpec["resources"]>,
  candidate: { cpu: number[]; memoryMb: number[] } | undefined,
  baseline: { cpu: number[]; memoryMb: number[] } | undefined,
): CheckOutcome {
  if (!candidate || candidate.cpu.length === 0)
    return { verdict: "error", value: null, summary: "the candidate has no running instance to measure" };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cpu = Math.max(...candidate.cpu);
  const memory = Math.max(...candidate.memoryMb);
  const shown = `CPU ${cpu.toFixed(2)} cores, memory ${memory.toFixed(0)} MiB per instance at most`;
  if (limits.maxCpu !== undefined && cpu > limits.maxCpu)
    return { verdict: "fail", value: cpu, summary: `${shown}: CPU above ${limits.maxCpu} cores` };
  if (limits.maxMemoryMb !== undefined && memory > limits.maxMemoryMb)
    return { verdict: "fail", value: memory, summary: `${shown}: memory above ${limits.maxMemoryMb} MiB` };
  if (limits.maxCpuRatio !== undefined && baseline && baseline.cpu.length > 0) {
    // Below 0.05 cores both sides are idle: a ratio of noise says nothing.
    const base = Math.max(mean(baseline.cpu), 0.05);
    const ratio = mean(candidate.cpu) / base;
    if (ratio > limits.maxCpuRatio)
      return {
        verdict: "fail",
        value: ratio,
        summary: `${shown}: CPU ${ratio.toFixed(2)}× the baseline's (${mean(baseline.cpu).toFixed(2)} cores), at most ${limits.maxCpuRatio}× allowed`,
      };
  }
  return { verdict: "pass", value: cpu, summary: shown };
}

async function resources(
  limits: NonNullable<CustomCheckSpec["resources"]>,
  c: CheckContext,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  if (!c.resources)
    return { verdict: "error", value: null, summary: "this runtime does not report CPU and memory" };
  const before = await c.resources();
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 1000);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
  const use = resourceUse(before, await c.resources(), (performance.now() - started) / 1000);
  return judgeResources(limits, use.get(c.candidate), use.get(c.baseline));
}

async function experiment(
  e: NonNullable<CustomCheckSpec["experiment"]>,
  c: CheckContext,
  memo: CheckMemo,
): Promise<CheckOutcome> {
  if (!c.experiment)
    return { verdict: "error", value: null, summary: "experiment results are not available here" };
  const now = (await c.experiment(e.name)) ?? { matched: 0, mismatched: 0 };
  memo.experimentStart ??= now;
  const mismatched = now.mismatched - memo.experimentStart.mismatched;
  const runs = mismatched + now.matched - memo.experimentStart.matched;
  const { verdict } = judgeCeiling(mismatched, runs, e.maxMismatchRate, {
    alpha: 0.01,
    minSamples: e.minRuns,
  });
  const rate = runs > 0 ? mismatched / runs : 0;
  const summary = `${e.name}: ${mismatched} of ${runs} runs mismatched (${(rate * 100).toFixed(2)}%, at most ${(e.maxMismatchRate * 100).toFixed(2)}%)${runs < e.minRuns ? `; ${e.minRuns} runs needed for a verdict` : ""}`;
  return { verdict: verdict === "fail" ? "fail" : "pass", value: rate, summary };
}

async function webhook(
  hook: NonNullable<CustomCheckSpec["webhook"]>,
  c: CheckContext,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const response = await fetch(hook.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...hook.headers },
    body: JSON.stringify({
      service: c.service,
      rollout: c.rollout,
      baseline: c.baseline,
      candidate: c.candidate,
      candidateUrls: await c.candidateUrls(),
    }),
    signal,
  });
  const text = await response.text();
  if (response.status >= 500) return { verdict: "error", value: null, summary: `HTTP ${response.status}` };
  if (response.status >= 300)
    return { verdict: "fail", value: null, summary: `HTTP ${response.status}: ${text.slice(0, 200)}` };
  let answer: { verdict?: unknown; reason?: unknown } = {};
  try {
    answer = text ? JSON.parse(text) : {};
  } catch {
    // A 2xx without JSON passes.
  }
  const reason = typeof answer.reason === "string" ? `: ${answer.reason}` : "";
  return answer.verdict === "fail"
    ? { verdict: "fail", value: null, summary: `answered fail${reason}` }
    : { verdict: "pass", value: null, summary: `HTTP ${response.status}${reason}` };
}

/**
 * Runs an analysis' custom checks side by side with the judges: each at once, then every
 * interval, one run at a time per check. `breach()` names the first check over its failure
 * or error limit; `settle()` waits (bounded by each check's timeout) for checks that have
 * not answered yet, so that a step never ends with a check unheard.
 */
export class CustomChecks {
  readonly #specs: CustomCheckSpec[];
  readonly #context: CheckContext;
  readonly #abort = new AbortController();
  readonly #results = new Map<string, CustomCheckResult>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #memos = new Map<string, CheckMemo>();
  readonly #now: () => Date;

  constructor(specs: CustomCheckSpec[], context: CheckContext, now: () => Date = () => new Date()) {
    this.#specs = specs;
    this.#context = context;
    this.#now = now;
  }

  start(): void {
    for (const spec of this.#specs) {
      this.#run(spec);
      this.#timers.push(setInterval(() => this.#run(spec), spec.interval));
    }
  }

  results(): CustomCheckResult[] {
    return this.#specs.flatMap((s) => this.#results.get(s.name) ?? []);
  }

  /** The reason to fail the rollout, when a check is over a limit. */
  breach(): string | undefined {
    for (const spec of this.#specs) {
      const r = this.#results.get(spec.name);
      if (!r) continue;
      const detail = `check ${spec.name} (${r.kind}${r.query ? `: ${r.query}` : ""})`;
      if (r.consecutiveFailures >= spec.failureLimit) return `${detail} failed: ${r.summary}`;
      if (r.consecutiveErrors >= spec.errorLimit)
        return `${detail} could not be run ${r.consecutiveErrors} times in a row: ${r.summary}`;
    }
    return undefined;
  }

  async settle(): Promise<void> {
    await Promise.all(
      this.#specs.filter((s) => !this.#results.has(s.name)).map((s) => this.#running.get(s.name)),
    );
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#abort.abort();
  }

  #run(spec: CustomCheckSpec): void {
    if (this.#running.has(spec.name) || this.#abort.signal.aborted) return;
    const memo = this.#memos.get(spec.name) ?? {};
    this.#memos.set(spec.name, memo);
    const run = runCheck(spec, this.#context, this.#abort.signal, memo).then((outcome) => {
      if (this.#abort.signal.aborted) return;
      const before = this.#results.get(spec.name);
      const kind = checkKind(spec);
      this.#results.set(spec.name, {
        ...outcome,
        name: spec.name,
        kind,
        ...(spec.prometheus && { query: renderTemplate(spec.prometheus.query, this.#context) }),
        runs: (before?.runs ?? 0) + 1,
        consecutiveFailures: outcome.verdict === "fail" ? (before?.consecutiveFailures ?? 0) + 1 : 0,
        consecutiveErrors: outcome.verdict === "error" ? (before?.consecutiveErrors ?? 0) + 1 : 0,
        at: this.#now().toISOString(),
      });
    });
    this.#running.set(spec.name, run);
    void run.finally(() => this.#running.delete(spec.name));
  }
}
