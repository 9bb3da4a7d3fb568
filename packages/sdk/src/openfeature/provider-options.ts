import type { Logger } from "@openfeature/server-sdk";

export interface GantryProviderOptions {
  /** Gantry's API, e.g. `http://gantry.internal:7070`. */
  baseUrl: string;
  /** An sdk token bound to one environment: `gantry tokens create --role sdk --env production`. */
  token: string;
  /**
   * A file to keep the last good flag set in, written atomically on every new one. When
   * Gantry cannot be reached at start, the provider starts from it. Default: none.
   */
  snapshotFile?: string;
  /** Follow changes over server-sent events (default true); false polls only. */
  stream?: boolean;
  /** How often to poll while there is no stream. Default 30 000 ms. */
  pollIntervalMs?: number;
  /** How long `initialize` waits for Gantry before starting from the snapshot (or failing). Default 5000 ms. */
  initTimeoutMs?: number;
  /** Out of contact with Gantry this long → PROVIDER_STALE. Default 30 000 ms. */
  staleAfterMs?: number;
  /** The first wait before reconnecting the stream; it doubles up to `maxReconnectDelayMs`. Default: the server's (1000 ms). */
  reconnectDelayMs?: number;
  /** Default 30 000 ms. */
  maxReconnectDelayMs?: number;
  /** Time allowed for one request (and for a stream's response head). Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** A stream silent this long is dropped and reconnected (Gantry sends a keepalive every 15 s). Default 45 000 ms. */
  streamIdleTimeoutMs?: number;
  /** Report how often flags served which variant, for `gantry flags stale`/'last evaluated'. Default true. */
  reportEvaluations?: boolean;
  /** How often evaluation counts are sent. Default 10 000 ms. */
  reportIntervalMs?: number;
  /** Flag/variant pairs counted between reports; evaluations past it are dropped and counted. Default 10 000. */
  maxReportEntries?: number;
  /** Where problems are told (besides events). Default: warnings and errors on the console. */
  logger?: Logger;
}

export type ProviderSettings = Required<Omit<GantryProviderOptions, "snapshotFile" | "reconnectDelayMs">> & {
  snapshotFile: string | undefined;
  reconnectDelayMs: number | undefined;
};

const DURATIONS = {
  pollIntervalMs: 30_000,
  initTimeoutMs: 5000,
  staleAfterMs: 30_000,
  maxReconnectDelayMs: 30_000,
  requestTimeoutMs: 10_000,
  streamIdleTimeoutMs: 45_000,
  reportIntervalMs: 10_000,
  maxReportEntries: 10_000,
} as const;

/** A mistake in the provider's options; thrown by the constructor, so it shows at start-up. */
export class GantryProviderOptionsError extends Error {
  override name = "GantryProviderOptionsError";
}

/** Defaults for what is left out; a bad value is refused naming the option, the value and the fix. */
export function settingsOf(options: GantryProviderOptions): ProviderSettings {
  const fail = (message: string) => {
    throw new GantryProviderOptionsError(`GantryProvider: ${message}`);
  };
  if (typeof options?.baseUrl !== "string" || !/^https?:\/\/[^/]/.test(options.baseUrl)) {
    fail(`baseUrl ${JSON.stringify(options?.baseUrl)} must be Gantry's http:// or https:// URL`);
  }
  if (typeof options.token !== "string" || options.token.trim() === "") {
    fail("token is missing; make one with: gantry tokens create --role sdk --env ENVIRONMENT");
  }
  const durations: Record<string, number> = { ...DURATIONS };
  for (const key of [...Object.keys(DURATIONS), "reconnectDelayMs"]) {
    const value = (options as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      fail(`${key} ${JSON.stringify(value)} must be a positive number`);
    }
    durations[key] = value as number;
  }
  if (
    options.snapshotFile !== undefined &&
    (typeof options.snapshotFile !== "string" || !options.snapshotFile)
  ) {
    fail(`snapshotFile ${JSON.stringify(options.snapshotFile)} must be a file path`);
  }
  return Object.freeze({
    ...(durations as typeof DURATIONS),
    baseUrl: options.baseUrl,
    token: options.token.trim(),
    snapshotFile: options.snapshotFile,
    stream: options.stream ?? true,
    reconnectDelayMs: durations.reconnectDelayMs,
    reportEvaluations: options.reportEvaluations ?? true,
    logger: options.logger ?? CONSOLE_LOGGER,
  });
}

const CONSOLE_LOGGER: Logger = {
  error: (...args: unknown[]) => console.error("[gantry]", ...args),
  warn: (...args: unknown[]) => console.warn("[gantry]", ...args),
  info: () => {},
  debug: () => {},
};
