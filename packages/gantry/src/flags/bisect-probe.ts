import { setTimeout as sleep } from "node:timers/promises";
import { routerSamples } from "../analysis/index.ts";
import { formatDuration } from "../config/duration.ts";
import { GantryError } from "../errors/index.ts";
import {
  type BisectCheck,
  type CheckOutcome,
  type HttpCheck,
  judgeHttp,
  judgeSli,
  type SliCheck,
  type WindowTraffic,
} from "./bisect-check.ts";

/** What a bisection reads of the live system, given by whoever starts it (the API). */
export interface Probes {
  /** Prometheus text holding the router's series (sli checks). */
  routerMetrics: () => Promise<string>;
  /** The services Gantry knows (an sli check names one). */
  services: () => Promise<string[]>;
}

/**
 * Runs a bisection's check against the live system: HTTP requests, or the router's counts
 * over a window. Too little traffic for an sli check is UNAVAILABLE (no answer is not a
 * pass); cancelling (the signal) rejects at once.
 */
export async function runCheck(
  check: BisectCheck,
  probes: Probes,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  return check.kind === "http" ? probeHttp(check, signal) : observeSli(check, probes, signal);
}

async function probeHttp(check: HttpCheck, signal: AbortSignal): Promise<CheckOutcome> {
  const answers: (number | string)[] = [];
  for (let i = 0; i < check.samples; i++) {
    signal.throwIfAborted();
    try {
      const response = await fetch(check.url, {
        method: check.method,
        headers: check.headers,
        signal: AbortSignal.any([signal, AbortSignal.timeout(check.timeoutMs)]),
      });
      await response.arrayBuffer();
      answers.push(response.status);
    } catch (error) {
      signal.throwIfAborted();
      const e = error as Error & { cause?: { code?: string } };
      answers.push(
        e.name === "TimeoutError"
          ? `no answer within ${formatDuration(check.timeoutMs)}`
          : `no answer (${e.cause?.code ?? e.message})`,
      );
    }
  }
  return judgeHttp(check, answers);
}

async function observeSli(check: SliCheck, probes: Probes, signal: AbortSignal): Promise<CheckOutcome> {
  const before = traffic(await probes.routerMetrics(), check.service);
  await sleep(check.windowMs, undefined, { signal });
  const after = traffic(await probes.routerMetrics(), check.service);
  const window = difference(after, before);
  const outcome = judgeSli(check, window);
  if (!outcome)
    throw new GantryError(
      "UNAVAILABLE",
      `too little traffic to judge: ${window.requests} requests to ${check.service} in ${formatDuration(check.windowMs)} (the check needs ${check.minRequests}); send traffic, lengthen --window or lower --min-requests`,
    );
  return outcome;
}

/** Every version of a service together, cumulative since the router started. */
function traffic(text: string, service: string): WindowTraffic {
  let requests = 0;
  let errors = 0;
  let bounds: readonly number[] = [];
  let counts: number[] = [];
  for (const sample of routerSamples(text, service).values()) {
    requests += sample.requests;
    errors += sample.errors;
    if (counts.length === 0) {
      bounds = sample.latency.bounds;
      counts = [...sample.latency.counts];
    } else counts = counts.map((c, i) => c + (sample.latency.counts[i] ?? 0));
  }
  return { requests, errors, latency: { bounds, counts } };
}

/** What happened between two cumulative readings; a router that restarted meanwhile counts from zero. */
function difference(later: WindowTraffic, earlier: WindowTraffic): WindowTraffic {
  if (later.requests < earlier.requests || earlier.latency.counts.length !== later.latency.counts.length)
    return later;
  return {
    requests: later.requests - earlier.requests,
    errors: later.errors - earlier.errors,
    latency: {
      bounds: later.latency.bounds,
      counts: later.latency.counts.map((c, i) => c - (earlier.latency.counts[i] ?? 0)),
    },
  };
}
