import { randomUUID } from "node:crypto";
import type { ExperimentResult, Observation } from "./types.ts";

/** One behaviour's observation as sent to the server (see docs/scientist.md). */
export interface WireObservation {
  name: string;
  /** The cleaned value; present only when the behaviour returned. */
  value?: unknown;
  /** Present only when the behaviour threw, rejected or timed out. */
  error?: { name: string; message: string };
  timedOut: boolean;
  durationMs: number;
  cpuMs: number;
}

/** One experiment run as sent to `POST /api/v1/experiments/results`. */
export interface WireResult {
  /** Random per run, the same on every retry: the server can drop a result it already has. */
  id: string;
  name: string;
  context: Record<string, unknown>;
  control: WireObservation;
  candidates: WireObservation[];
  matched: string[];
  ignored: string[];
  mismatched: string[];
  returned: string;
  /** ISO 8601, UTC, millisecond precision. */
  at: string;
  sampled: number | null;
}

/**
 * Turns a result into its JSON shape, applying the experiment's `clean`. Runs in the
 * publisher, off the caller's path; a `clean` that throws costs that value (sent as null)
 * and is passed to `onCleanError`, never the whole result.
 */
export function toWireResult(
  result: ExperimentResult,
  onCleanError: (error: unknown) => void,
  id: string = randomUUID(),
): WireResult {
  const wire = (observation: Observation) => toWireObservation(observation, result.clean, onCleanError);
  return {
    id,
    name: result.name,
    context: { ...result.context },
    control: wire(result.control),
    candidates: result.candidates.map(wire),
    matched: [...result.matched],
    ignored: [...result.ignored],
    mismatched: [...result.mismatched],
    returned: result.returned,
    at: new Date(result.startedAt).toISOString(),
    sampled: result.sampled,
  };
}

function toWireObservation(
  observation: Observation,
  clean: ((value: unknown) => unknown) | undefined,
  onCleanError: (error: unknown) => void,
): WireObservation {
  const wire: WireObservation = {
    name: observation.name,
    timedOut: observation.timedOut,
    durationMs: microseconds(observation.durationMs),
    cpuMs: microseconds(observation.cpuMs),
  };
  if (observation.threw) wire.error = describeError(observation.error);
  else wire.value = cleaned(observation.value, clean, onCleanError) ?? null;
  return wire;
}

function cleaned(
  value: unknown,
  clean: ((value: unknown) => unknown) | undefined,
  onCleanError: (error: unknown) => void,
): unknown {
  if (clean === undefined) return value;
  try {
    return clean(value);
  } catch (error) {
    onCleanError(error);
    return null;
  }
}

function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}

/** Sub-microsecond digits are clock noise; dropping them keeps batches small. */
function microseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
