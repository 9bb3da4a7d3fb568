/**
 * Prometheus' HTTP query API, as the analysis' checks and Prometheus SLIs read it. Every
 * failure is an Error whose message says what happened in words a person can act on:
 * the server unreachable, an HTTP error, or Prometheus' own error (a bad query).
 */

/** One series of an instant query's answer. */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a range query's answer: [ms since the epoch, value] pairs. */
export interface PromSeries {
  labels: Record<string, string>;
  values: [number, number][];
}

interface Answer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** GET `path` with the query parameters; the parsed answer when Prometheus says success. */
async function get(
  url: string,
  path: string,
  params: Record<string, string>,
  signal: AbortSignal,
): Promise<Answer> {
  const target = new URL(path, url.endsWith("/") ? url : `${url}/`);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  let response: Response;
  try {
    response = await fetch(target, { signal });
  } catch (error) {
    if ((error as Error).name === "TimeoutError" || (error as Error).name === "AbortError") throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `cannot reach Prometheus at ${url}: ${cause?.message ?? cause?.code ?? (error as Error).message}`,
    );
  }
  const body = (await response.json().catch(() => undefined)) as Answer | undefined;
  if (!body) throw new Error(`Prometheus at ${url} answered HTTP ${response.status} without a JSON body`);
  if (body.status !== "success")
    throw new Error(
      `Prometheus answered ${body.errorType ? `${body.errorType}: ` : ""}${body.error ?? JSON.stringify(body).slice(0, 200)}`,
    );
  return body;
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** An instant query's answer as Prometheus gave it (`/api/v1/query`), at `time` (ms) or now. */
export function instantQuery(
  url: string,
  query: string,
  options: { time?: number; signal: AbortSignal },
): Promise<Answer> {
  return get(
    url,
    "api/v1/query",
    { query, ...(options.time !== undefined && { time: seconds(options.time) }) },
    options.signal,
  );
}

/** The series of an instant query that answers a vector; NaN and infinite values are left out. */
export async function instantVector(
  url: string,
  query: string,
  options: { time?: number; signal: AbortSignal },
): Promise<PromSample[]> {
  const { data } = await instantQuery(url, query, options);
  if (data?.resultType !== "vector")
    throw new Error(`the query returned a ${data?.resultType}, not a vector`);
  return (data.result as { metric: Record<string, string>; value: [number, string] }[])
    .map((s) => ({ labels: s.metric, value: Number(s.value[1]) }))
    .filter((s) => Number.isFinite(s.value));
}

/** A range query's series (`/api/v1/query_range`) from `start` to `end` (ms) every `step` ms. */
export async function rangeQuery(
  url: string,
  query: string,
  options: { start: number; end: number; step: number; signal: AbortSignal },
): Promise<PromSeries[]> {
  const { data } = await get(
    url,
    "api/v1/query_range",
    { query, start: seconds(options.start), end: seconds(options.end), step: seconds(options.step) },
    options.signal,
  );
  if (data?.resultType !== "matrix")
    throw new Error(`the query returned a ${data?.resultType}, not a matrix`);
  return (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((s) => ({
    labels: s.metric,
    values: s.values
      .map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)])
      .filter(([, v]) => Number.isFinite(v)),
  }));
}

/**
 * The single number of an instant query's answer: a scalar, or a vector of exactly one
 * sample. Anything else is an error that says what came back.
 */
export function prometheusValue(body: unknown): number {
  const answer = body as Answer;
  if (answer?.status !== "success")
    throw new Error(`Prometheus answered ${answer?.error ?? JSON.stringify(body).slice(0, 200)}`);
  const { resultType, result } = answer.data ?? {};
  let text: unknown;
  if (resultType === "scalar") text = (result as [number, string])[1];
  else if (resultType === "vector") {
    const samples = result as { value: [number, string] }[];
    if (samples.length !== 1)
      throw new Error(
        samples.length === 0
          ? "the query returned no sample (no data yet, or a label that matches nothing)"
          : `the query returned ${samples.length} samples; aggregate it to one (e.g. sum(...) or max(...))`,
      );
    text = samples[0]!.value[1];
  } else throw new Error(`the query returned a ${resultType}; give an instant query that returns one number`);
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`the query returned ${String(text)}, not a number`);
  return value;
}
