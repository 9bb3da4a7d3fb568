// npm run bench:alerts — how long Gantry takes to evaluate 1,000 SLOs over a day of
// one-second SLI data, and how soon a page leaves once an alert condition holds.
//
// In one process, with the real parts: SQLite store, SloCatalog/SloEngine, SloAlertFeed,
// IncidentService, Pager and its signed webhook notifier posting to a real HTTP receiver
// on 127.0.0.1. Only the clock is injected, so that a day of data takes seconds to feed.
// Prints a table, and as its last line the headline.

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AuditLog } from "../../packages/gantry/src/audit/index.ts";
import { parseConfigText } from "../../packages/gantry/src/config/index.ts";
import { IncidentService, IncidentStore, SloAlertFeed } from "../../packages/gantry/src/incidents/index.ts";
import { createNotifier, OncallDirectory, Pager } from "../../packages/gantry/src/oncall/index.ts";
import { type SliSample, SliStore, SloCatalog, SloEngine } from "../../packages/gantry/src/slo/index.ts";
import { openSqliteStore } from "../../packages/gantry/src/store/index.ts";

const { values } = parseArgs({
  options: {
    slos: { type: "string", default: "1000" },
    hours: { type: "string", default: "24" },
    cycles: { type: "string", default: "30" },
    pages: { type: "string", default: "5" },
  },
});
const SLOS = Number(values.slos);
const SECONDS = Number(values.hours) * 3600;
const CYCLES = Number(values.cycles);
const PAGES = Number(values.pages);
const SERVICES = Math.max(1, Math.ceil(SLOS / 10));
const t0 = Date.parse("2026-06-01T00:00:00Z");
let now = t0;
const clock = () => new Date(now);

const dir = mkdtempSync(join(tmpdir(), "gantry-bench-alerts-"));
const received: { at: number; body: Record<string, unknown> }[] = [];
const receiver = createServer((req, res) => {
  let text = "";
  req.on("data", (c) => (text += c));
  req.on("end", () => {
    received.push({ at: performance.now(), body: JSON.parse(text) });
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

// 1,000 SLOs over SERVICES services: availability and latency, objectives from 99% to 99.99%,
// the workbook's burn-rate rules (1 h to 3 d windows) and a 5-minute threshold rule.
const objectives = ["99%", "99.5%", "99.9%", "99.95%", "99.99%"];
const services = Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);
const sloYaml = Array.from({ length: SLOS }, (_, i) => {
  const service = services[i % SERVICES]!;
  const sli =
    Math.floor(i / SERVICES) % 2 === 0 ? "{ type: availability }" : "{ type: latency, threshold: 250ms }";
  return `  slo-${i}:
    service: ${service}
    sli: ${sli}
    objective: ${objectives[i % objectives.length]}
    window: 28d
    alerting: { thresholds: [{ severity: ticket, window: 5m, maxBadRatio: 20% }] }`;
}).join("\n");
const config = parseConfigText(
  `services:
${services.map((s) => `  ${s}: { command: x }`).join("\n")}
sli: { interval: 1s, fineFor: 1h, coarse: 5m, retention: 35d }
slos:
${sloYaml}
oncall:
  people: { ana: { contacts: [{ notifier: hook }] } }
  notifiers: { hook: { type: webhook, url: ${hookUrl}, secret: bench } }
  policies: { main: { levels: [{ targets: [{ person: ana }], delay: 1h }] } }
  routes: [{ policy: main }]
`,
  "bench",
);

const store = await openSqliteStore(join(dir, "gantry.db"));
const catalog = new SloCatalog(store.db, clock);
await catalog.syncFromConfig(config.slos);
const sliStore = new SliStore(store.db, config.sli);
const engine = new SloEngine({ catalog, store: sliStore, now: clock });
await engine.load();

/** Deterministic traffic: each service 50–500 requests a second, one error in 2,000 seconds, 0.1% slow. */
const rps = services.map((_, i) => 50 + ((i * 37) % 451));
function samples(at: number, failing: ReadonlySet<number> = new Set()): SliSample[] {
  return services.map((service, i) => {
    const requests = rps[i]!;
    const errors = failing.has(i) ? requests : (at / 1000 + i) % 2000 === 0 ? 1 : 0;
    const slow = (at / 1000 + i) % 1000 === 0 ? 1 : 0;
    return {
      service,
      version: "v1",
      at,
      span: 1000,
      requests,
      errors,
      latency: new Map([
        [50, requests - slow],
        [500, slow],
      ]),
      cpuSeconds: null,
      rssBytes: null,
    };
  });
}

const memoryBefore = process.memoryUsage();
const feedStart = performance.now();
for (let s = 1; s <= SECONDS; s++) {
  now = t0 + s * 1000;
  engine.record(samples(now));
}
const feedMs = performance.now() - feedStart;
// The series are typed arrays (outside the JS heap): their growth is arrayBuffers'.
const memoryAfter = process.memoryUsage();
const seriesMb = (memoryAfter.arrayBuffers - memoryBefore.arrayBuffers) / 1048576;
const rssMb = memoryAfter.rss / 1048576;

// One evaluation cycle: budget, SLA, every burn-rate and threshold rule of every SLO.
const cycleMs: number[] = [];
let firing = 0;
for (let c = 0; c < CYCLES; c++) {
  const start = performance.now();
  const statuses = engine.evaluate();
  cycleMs.push(performance.now() - start);
  firing = statuses.filter((s) => s.severity !== null).length;
  if (statuses.length !== SLOS) throw new Error(`evaluated ${statuses.length} SLOs, expected ${SLOS}`);
}

// Page latency: from the sample that makes an SLO's condition hold to the page at the receiver.
const audit = new AuditLog(store.db, clock);
const incidents = new IncidentService({
  store: new IncidentStore(store.db),
  audit,
  now: clock,
  changesBefore: 3_600_000,
});
const feed = new SloAlertFeed({ engine, incidents });
const directory = new OncallDirectory({ spec: config.oncall, db: store.db, audit, now: clock });
await directory.load();
const notifiers = new Map([
  ["hook", createNotifier(config.oncall.notifiers.hook!, { now: clock, timeoutMs: 10_000 })],
]);
const pager = new Pager({
  db: store.db,
  directory,
  incidents,
  notifiers,
  now: clock,
  link: (id) => `http://127.0.0.1/api/v1/incidents/${id}`,
  delivery: config.oncall.delivery,
});
await feed.evaluate();
await pager.kick();
if ((await incidents.list({ state: "open" })).length > 0) throw new Error("the healthy day opened incidents");
const pageMs: number[] = [];
const tickMs: number[] = [];
for (let p = 0; p < PAGES; p++) {
  const failing = new Set([p]);
  const before = received.length;
  for (let s = 0; s < 600; s++) {
    if (s === 599) throw new Error(`${services[p]} never paged in 10 minutes of total failure`);
    now += 1000;
    const start = performance.now();
    engine.record(samples(now, failing));
    await feed.evaluate();
    tickMs.push(performance.now() - start);
    // The page rule (14.4x over 1 h and 5 m) holds: a high-severity incident, which the route pages.
    const opened = (await incidents.list({ state: "open" })).some(
      (i) => i.service === services[p] && i.source === "slo" && i.severity === "high",
    );
    if (!opened) continue;
    await pager.kick();
    const deadline = performance.now() + 10_000;
    while (received.length === before) {
      if (performance.now() > deadline) throw new Error(`no page for ${services[p]} within 10 s`);
      await new Promise((r) => setTimeout(r, 1));
    }
    pageMs.push(received[received.length - 1]!.at - start);
    break;
  }
  // The service recovers; its alerts resolve before the next one fails.
  for (let s = 0; s < 400; s++) {
    now += 1000;
    engine.record(samples(now));
  }
  await feed.evaluate();
}
await pager.stop();
await store.close();
receiver.close();
rmSync(dir, { recursive: true, force: true });

const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const f = (ms: number) => `${ms.toFixed(1)} ms`;
console.log(
  `${SLOS} SLOs on ${SERVICES} services, ${SECONDS} s of one-second points each (${(SLOS * SECONDS) / 1e6} M points)`,
);
console.log("");
console.log("| measure | value |");
console.log("|---|---:|");
console.log(
  `| feeding the day (making the samples and appending them to every SLO's series) | ${(feedMs / 1000).toFixed(1)} s (${((feedMs * 1e6) / (SLOS * SECONDS)).toFixed(0)} ns a point) |`,
);
console.log(
  `| memory: the series' typed arrays / the whole process (RSS) | ${seriesMb.toFixed(0)} MB / ${rssMb.toFixed(0)} MB |`,
);
console.log(
  `| evaluation cycle, all SLOs: median / p95 / max of ${CYCLES} | ${f(q(cycleMs, 0.5))} / ${f(q(cycleMs, 0.95))} / ${f(Math.max(...cycleMs))} |`,
);
console.log(`| SLOs firing at the end of the day | ${firing} |`);
console.log(
  `| sample → alerts → incident, per tick: median / max | ${f(q(tickMs, 0.5))} / ${f(Math.max(...tickMs))} |`,
);
console.log(
  `| condition holds → page received: median / max of ${pageMs.length} | ${f(q(pageMs, 0.5))} / ${f(Math.max(...pageMs))} |`,
);
console.log("");
console.log(
  `evaluation cycle of ${SLOS} SLOs: ${f(q(cycleMs, 0.5))} (target < 1000 ms); page out ${f(Math.max(...pageMs))} after the condition at worst (target < 2000 ms, plus up to one sli.interval to sample it)`,
);
