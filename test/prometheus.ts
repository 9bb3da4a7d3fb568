import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitUntil } from "./e2e/harness.ts";

/**
 * A real Prometheus (Debian's `prometheus` package, which .ci/run installs) for tests: its own
 * data directory and port, paused, or stopped and started again on the same data (to test what
 * Gantry does while it is away), and a tiny exporter of counters the test controls.
 */
export interface TestPrometheus {
  url: string;
  port: number;
  /** SIGTERM, and wait for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once every job's target has been scraped. */
  start(): Promise<void>;
  /** SIGSTOP: it neither answers nor scrapes until `resume()` (SIGCONT). */
  pause(): void;
  resume(): void;
}

/** Throws a message that says how to install Prometheus when it is not there. */
export function requirePrometheus(): void {
  const found = spawnSync("prometheus", ["--version"], { stdio: "ignore" });
  if (found.error)
    throw new Error(
      "these tests run a real Prometheus and `prometheus` is not installed: apt-get install prometheus (.ci/run does it)",
    );
}

/**
 * Starts Prometheus with the given scrape_configs (YAML list items) and resolves once the
 * targets of `jobs` have been scraped. `stopAllPrometheus()` stops every one still running.
 */
export async function startPrometheus(options: {
  scrapeConfigs?: string;
  jobs?: string[];
  scrapeInterval?: string;
  port?: number;
  /** History to load before it starts: OpenMetrics text with timestamps (promtool tsdb create-blocks-from). */
  history?: string;
}): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "gantry-prometheus-"));
  if (options.history !== undefined) {
    writeFileSync(join(dir, "history.txt"), options.history);
    execFileSync("promtool", [
      "tsdb",
      "create-blocks-from",
      "openmetrics",
      "--quiet",
      join(dir, "history.txt"),
      join(dir, "data"),
    ]);
  }
  const jobs = options.jobs ?? [];
  const port = options.port ?? (await freePort());
  const interval = options.scrapeInterval ?? "1s";
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global: { scrape_interval: ${interval}, evaluation_interval: ${interval} }\nscrape_configs:\n${options.scrapeConfigs ?? "  []"}`,
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const prometheus: TestPrometheus = {
    url,
    port,
    async stop() {
      const c = child;
      child = undefined;
      running.delete(prometheus);
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGCONT");
      c.kill("SIGTERM");
      await exited;
    },
    async start() {
      child = spawn(
        "prometheus",
        [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: "ignore" },
      );
      running.add(prometheus);
      // Prometheus applies its targets about 5 s after it starts; a sample from before a restart does not count.
      const started = Date.now() / 1000;
      await waitUntil(
        async () => {
          const ready = await fetch(`${url}/-/ready`)
            .then(async (r) => {
              await r.text();
              return r.status;
            })
            .catch(() => 0);
          if (ready !== 200) return false;
          for (const job of jobs) {
            const query = encodeURIComponent(`timestamp(up{job="${job}"} == 1)`);
            const answer = await fetch(`${url}/api/v1/query?query=${query}`).catch(() => undefined);
            const body = (await answer?.json().catch(() => undefined)) as
              | { data?: { result?: { value: [number, string] }[] } }
              | undefined;
            if (!(Number(body?.data?.result?.[0]?.value[1]) > started)) return false;
          }
          return true;
        },
        30_000,
        `Prometheus to start${jobs.length > 0 ? ` and scrape ${jobs.join(", ")}` : ""}`,
      );
    },
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
  };
  await prometheus.start();
  return prometheus;
}

const running = new Set<TestPrometheus>();

/** Stops every Prometheus still running (for afterEach). */
export async function stopAllPrometheus(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** An HTTP server exposing counters in Prometheus' text format at /metrics. */
export interface CounterExporter {
  /** host:port, for a scrape target. */
  target: string;
  /** Adds n to a series, e.g. add('http_requests_total{code="500"}', 5). */
  add(series: string, n: number): void;
  value(series: string): number;
  close(): Promise<void>;
}

export async function counterExporter(series: string[]): Promise<CounterExporter> {
  const values = new Map(series.map((s) => [s, 0]));
  const server = createServer((_req, res) => {
    const names = new Set([...values.keys()].map((s) => s.split("{")[0]!));
    const lines = [...names].map((n) => `# TYPE ${n} counter`);
    for (const [s, v] of values) lines.push(`${s} ${v}`);
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(`${lines.join("\n")}\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    target: `127.0.0.1:${port}`,
    add(s, n) {
      values.set(s, (values.get(s) ?? 0) + n);
    },
    value: (s) => values.get(s) ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Counts `perSecond` requests a second into `ok` and `failed`, in tenths of a second, the
 * share `errorShare()` says failing; clear the returned timer to stop.
 */
export function steadyTraffic(
  exporter: CounterExporter,
  o: { ok: string; failed: string; perSecond: number; errorShare: () => number },
): NodeJS.Timeout {
  const perTick = o.perSecond / 10;
  return setInterval(() => {
    const bad = Math.round(perTick * o.errorShare());
    exporter.add(o.ok, perTick - bad);
    exporter.add(o.failed, bad);
  }, 100);
}
