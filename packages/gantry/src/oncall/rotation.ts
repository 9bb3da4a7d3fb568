import { dateOfDay, dayNumber, localDateTime, zonedInstant } from "../time/index.ts";

const hourMs = 3_600_000;
const dayMs = 86_400_000;

/**
 * A window of the week in which a layer has someone on call, on its zone's wall clock:
 * starting on each of `days` at `from` (minutes after midnight) and ending at `to`, the
 * next day when `to` <= `from` (17:00–09:00 covers the night).
 */
export interface Restriction {
  /** Days it starts on, 0 = Sunday .. 6 = Saturday. */
  days: readonly number[];
  from: number;
  /** Minutes after midnight, 1..1440. */
  to: number;
}

/**
 * One rotation: participants take turns in order. A turn of whole days ends at the handoff
 * time on the wall clock (so a weekly turn over a daylight-saving change lasts 167 or 169
 * hours); a turn of hours is that many elapsed hours.
 */
export interface RotationLayer {
  name: string;
  participants: readonly string[];
  turn: { unit: "days" | "hours"; count: number };
  /** The local date the first turn starts, at `handoff`: participants[0] takes it. */
  start: { year: number; month: number; day: number };
  /** Minutes after local midnight at which turns change. */
  handoff: number;
  timeZone: string;
  /** When non-empty, the layer has someone on call only inside these windows. */
  restrictions: readonly Restriction[];
}

/** Someone takes the whole schedule from `from` to `to` (ms), above every layer. */
export interface Override {
  person: string;
  from: number;
  to: number;
}

/** Layers in order of precedence: where a later layer has someone, it wins (as PagerDuty layers). */
export interface Schedule {
  name: string;
  layers: readonly RotationLayer[];
  overrides: readonly Override[];
}

export interface Turn {
  index: number;
  person: string;
  from: number;
  to: number;
}

/** The instant turn `k` of a layer starts. */
export function turnStart(layer: RotationLayer, k: number): number {
  const { start, handoff, timeZone, turn } = layer;
  const h = Math.floor(handoff / 60);
  const m = handoff % 60;
  if (turn.unit === "hours") {
    return zonedInstant(start.year, start.month, start.day, h, m, 0, timeZone) + k * turn.count * hourMs;
  }
  const d = dateOfDay(dayNumber(start.year, start.month, start.day) + k * turn.count);
  return zonedInstant(d.year, d.month, d.day, h, m, 0, timeZone);
}

/** The turn of a layer at an instant, ignoring restrictions; null before the layer starts. */
export function turnAt(layer: RotationLayer, at: number): Turn | null {
  if (layer.participants.length === 0 || at < turnStart(layer, 0)) return null;
  let k: number;
  if (layer.turn.unit === "hours") {
    k = Math.floor((at - turnStart(layer, 0)) / (layer.turn.count * hourMs));
  } else {
    const l = localDateTime(at, layer.timeZone);
    const days =
      dayNumber(l.year, l.month, l.day) - dayNumber(layer.start.year, layer.start.month, layer.start.day);
    k = Math.floor(days / layer.turn.count);
  }
  // The estimate from the local date can be one off around the handoff time: settle on instants.
  while (k > 0 && turnStart(layer, k) > at) k--;
  while (turnStart(layer, k + 1) <= at) k++;
  const n = layer.participants.length;
  return {
    index: k,
    person: layer.participants[((k % n) + n) % n]!,
    from: turnStart(layer, k),
    to: turnStart(layer, k + 1),
  };
}

/** The restriction windows of a layer that overlap [from, to), as [start, end) instants. */
export function restrictionWindows(layer: RotationLayer, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  const first = localDateTime(from - dayMs, layer.timeZone);
  const last = localDateTime(to, layer.timeZone);
  const d0 = dayNumber(first.year, first.month, first.day);
  const d1 = dayNumber(last.year, last.month, last.day);
  for (let d = d0; d <= d1; d++) {
    const date = dateOfDay(d);
    const weekday = (((d + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    for (const r of layer.restrictions) {
      if (!r.days.includes(weekday)) continue;
      const start = zonedInstant(date.year, date.month, date.day, 0, r.from, 0, layer.timeZone);
      const endDay = r.to <= r.from ? date.day + 1 : date.day;
      const end = zonedInstant(date.year, date.month, endDay, 0, r.to, 0, layer.timeZone);
      if (end > from && start < to) out.push([start, end]);
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Whether a layer's restrictions let it have someone on call at an instant. */
export function layerActive(layer: RotationLayer, at: number): boolean {
  if (layer.restrictions.length === 0) return true;
  return restrictionWindows(layer, at, at + 1).some(([s, e]) => s <= at && at < e);
}

export interface OnCall {
  person: string;
  /** The layer that put them on call, or null for an override. */
  layer: string | null;
}

/** Who is on call at an instant, or null when nobody is (every layer restricted or not started). */
export function onCallAt(schedule: Schedule, at: number): OnCall | null {
  // The override made last wins where overrides overlap.
  for (let i = schedule.overrides.length - 1; i >= 0; i--) {
    const o = schedule.overrides[i]!;
    if (o.from <= at && at < o.to) return { person: o.person, layer: null };
  }
  for (let i = schedule.layers.length - 1; i >= 0; i--) {
    const layer = schedule.layers[i]!;
    if (!layerActive(layer, at)) continue;
    const turn = turnAt(layer, at);
    if (turn) return { person: turn.person, layer: layer.name };
  }
  return null;
}

export interface Shift extends OnCall {
  from: number;
  to: number;
}

/**
 * The final schedule between two instants: who is on call when, after layers, restrictions
 * and overrides; nobody's stretches are left out. Adjacent stretches of the same person and
 * layer are merged.
 */
export function shifts(schedule: Schedule, from: number, to: number): Shift[] {
  const edges = new Set<number>([from]);
  const add = (t: number) => {
    if (t > from && t < to) edges.add(t);
  };
  for (const o of schedule.overrides) {
    add(o.from);
    add(o.to);
  }
  for (const layer of schedule.layers) {
    const turn = turnAt(layer, from);
    let k = turn ? turn.index + 1 : 0;
    for (let t = turnStart(layer, k); t < to; t = turnStart(layer, ++k)) add(t);
    for (const [s, e] of restrictionWindows(layer, from, to)) {
      add(s);
      add(e);
    }
  }
  const sorted = [...edges].sort((a, b) => a - b);
  const out: Shift[] = [];
  for (const [i, start] of sorted.entries()) {
    const end = sorted[i + 1] ?? to;
    const who = onCallAt(schedule, start);
    if (!who) continue;
    const last = out.at(-1);
    if (last && last.to === start && last.person === who.person && last.layer === who.layer) last.to = end;
    else out.push({ ...who, from: start, to: end });
  }
  return out;
}
