// npm run bench:scientist — per-call cost of Gantry's Scientist when an experiment is
// skipped and when it runs, against the `scientist` npm package (Trello's port of GitHub's
// Scientist) running the same experiment in the same process. "Overhead" is time per call
// beyond calling the behaviours directly. Prints a table, and as its last line the headline.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import PackageScientist from "scientist";
import { Scientist } from "../../packages/sdk/src/index.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);

// The example: the control checks a model, the candidate asks the user; both agree.
const users = Array.from({ length: 1024 }, (_, i) => ({ id: i, roles: i % 3 === 0 ? ["read"] : [] }));
const checkUser = (i: number) => users[i & 1023]!.roles.length > 0;
const userCan = (i: number) => users[i & 1023]!.roles.includes("read");

let sink = 0;
const consume = (value: unknown) => {
  if (value === true) sink++;
};

const noPublisher = { publish: () => {} };
const gantry = new Scientist({ publisher: noPublisher, raised: () => {} });
const gantryOff = new Scientist({ publisher: noPublisher, defaults: { enabled: false } });
const pkg = new PackageScientist();
pkg.on("result", () => {});
pkg.on("error", () => {});
const pkgOff = new PackageScientist();
pkgOff.sample(() => false);
pkgOff.on("skip", () => {});

type Case = { name: string; run: (i: number) => unknown; async?: boolean };

/**
 * What observing two behaviours costs at the least: wall and CPU time read at the three
 * boundaries of two behaviours run one after the other. `process.cpuUsage()` is a
 * getrusage system call; on some virtual machines that alone is most of a run's overhead.
 */
function clockFloor(): number {
  let total = 0;
  for (let k = 0; k < 3; k++) {
    const usage = process.cpuUsage();
    total += usage.user + usage.system + performance.now();
  }
  return total;
}

const cases: Case[] = [
  { name: "control only, direct", run: (i) => checkUser(i) },
  { name: "control + candidate, direct", run: (i) => checkUser(i) === userCan(i) },
  { name: "control only, awaited", async: true, run: async (i) => checkUser(i) },
  { name: "control + candidate, awaited", async: true, run: async (i) => checkUser(i) === userCan(i) },
  { name: "clock floor: 3x cpuUsage + 3x now", run: () => clockFloor() },
  {
    name: "gantry scienceSync, disabled",
    run: (i) =>
      gantryOff.scienceSync<boolean>("widget-permissions", (e) => {
        e.use(() => checkUser(i));
        e.try(() => userCan(i));
      }),
  },
  {
    name: "gantry science (async), disabled",
    async: true,
    run: (i) =>
      gantryOff.science<boolean>("widget-permissions", (e) => {
        e.use(() => checkUser(i));
        e.try(() => userCan(i));
      }),
  },
  {
    name: "scientist pkg, disabled (sampler false)",
    run: (i) =>
      pkgOff.science<boolean>("widget-permissions", (e) => {
        e.use(() => checkUser(i));
        e.try(() => userCan(i));
      }),
  },
  {
    name: "gantry scienceSync, enabled",
    run: (i) =>
      gantry.scienceSync<boolean>("widget-permissions", (e) => {
        e.use(() => checkUser(i));
        e.try(() => userCan(i));
      }),
  },
  {
    name: "gantry science (async), enabled",
    async: true,
    run: (i) =>
      gantry.science<boolean>("widget-permissions", (e) => {
        e.use(() => checkUser(i));
        e.try(() => userCan(i));
      }),
  },
  {
    name: "scientist pkg, enabled",
    run: (i) =>
      pkg.science<boolean>("widget-permissions", (e) => {
        e.use(() => checkUser(i));
        e.try(() => userCan(i));
      }),
  },
];

// A full collection between rounds, outside the timing: otherwise the garbage of the
// package's runs (tens of kB a call) is collected during whichever case comes next.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** One round of one case: ns per call, including draining whatever it left for later turns. */
async function round(c: Case): Promise<number> {
  const start = process.hrtime.bigint();
  if (c.async) {
    for (let i = 0; i < CALLS; i++) consume(await c.run(i));
  } else {
    for (let i = 0; i < CALLS; i++) consume(c.run(i));
  }
  // The package publishes on later turns (bluebird); count that work too.
  await new Promise((resolve) => setImmediate(resolve));
  return Number(process.hrtime.bigint() - start) / CALLS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(): Promise<Map<string, number>> {
  for (const c of cases) for (let w = 0; w < 3; w++) await round(c);
  const samples = new Map(cases.map((c) => [c.name, [] as number[]]));
  // Cases interleaved round by round, so drift in the machine hits all of them alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      collectGarbage();
      samples.get(c.name)!.push(await round(c));
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

const ns = await measure();
const at = (name: string) => ns.get(name)!;
const controlOnly = at("control only, direct");
const both = at("control + candidate, direct");
const awaitedControl = at("control only, awaited");
const awaitedBoth = at("control + candidate, awaited");
/** Time beyond calling the behaviours the same way (awaited, for `science`) without an experiment. */
const overhead = (name: string) => {
  const async = name.includes("async");
  if (name.includes("disabled")) return at(name) - (async ? awaitedControl : controlOnly);
  return at(name) - (async ? awaitedBoth : both);
};

console.log(`node ${process.version}, ${CALLS} calls x ${ROUNDS} rounds, median per call`);
console.log(`${"case".padEnd(42)} ${"ns/call".padStart(9)} ${"overhead".padStart(9)}`);
for (const c of cases) {
  const baseline = c.name.includes("direct") || c.name.includes("awaited") || c.name.includes("floor");
  const extra = baseline ? "" : overhead(c.name).toFixed(0);
  console.log(`${c.name.padEnd(42)} ${at(c.name).toFixed(0).padStart(9)} ${extra.padStart(9)}`);
}
// Keeps the behaviours' results alive, so the engine cannot drop the calls.
if (sink === 0) throw new Error("no behaviour ran");

const disabled = overhead("gantry scienceSync, disabled");
const enabled = overhead("gantry scienceSync, enabled");
const peer = overhead("scientist pkg, enabled");
console.log(
  `disabled: ${disabled.toFixed(0)} ns/call, enabled overhead: ${enabled.toFixed(0)} ns/call ` +
    `(scientist pkg: ${peer.toFixed(0)} ns/call), ratio gantry/scientist: ${(enabled / peer).toFixed(2)}`,
);
