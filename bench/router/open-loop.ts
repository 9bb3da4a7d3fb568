import { Pool } from "undici";

/**
 * Open-loop load at a fixed rate: requests are scheduled evenly, and each latency is measured
 * from when the request was due, not when it could be sent, so a stalled target shows up in
 * the tail (no coordinated omission). Returns latency percentiles in milliseconds.
 */
export async function openLoopPercentiles(
  port: number,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; errors: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      pool.request({ path: "/", method: "GET" }).then(
        async (response) => {
          await response.body.dump();
          latencies.push(performance.now() - due);
        },
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(inflight);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), errors };
}
