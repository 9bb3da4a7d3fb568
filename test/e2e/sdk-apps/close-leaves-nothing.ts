/**
 * An application that starts the Gantry provider, evaluates, sees a change, closes, and
 * prints the sockets, timers and file handles the provider opened that are still open.
 * Run by sdk-provider.test.ts: node close-leaves-nothing.ts BASE_URL TOKEN SNAPSHOT_FILE
 */
import { createHook } from "node:async_hooks";
import { readdirSync, readlinkSync } from "node:fs";
import { GantryProvider } from "@gantry/sdk/openfeature";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";

// Sockets and timers by async hook (their destroy comes when they close); files and
// sockets again by the process's open descriptors (a FileHandle's hook waits for GC).
const WATCHED = new Set(["TCPWRAP", "TCPCONNECTWRAP", "Timeout"]);
const descriptors = () =>
  new Map(
    readdirSync("/proc/self/fd").map((fd) => {
      try {
        return [fd, readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [fd, "?"];
      }
    }),
  );
const alive = new Map<number, { type: string; stack: string }>();
let tracking = true;
const hook = createHook({
  init(id, type) {
    if (tracking && WATCHED.has(type)) alive.set(id, { type, stack: new Error().stack ?? "" });
  },
  destroy(id) {
    alive.delete(id);
  },
});

const [baseUrl, token, snapshotFile] = process.argv.slice(2);
// The application's own work (a server, a job loop): the provider never keeps a process
// alive by itself, so without this the app would end while it waits for the change.
const work = setInterval(() => {}, 1000);
process.stdout.write("");
const fdsBefore = descriptors();
hook.enable();
const provider = new GantryProvider({
  baseUrl: baseUrl!,
  token: token!,
  snapshotFile: snapshotFile!,
  reportIntervalMs: 50,
  logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
});
const changed = new Promise<void>((resolve) =>
  OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, () => resolve()),
);
await OpenFeature.setProviderAndWait(provider);
const client = OpenFeature.getClient();
for (let i = 0; i < 10; i++) await client.getBooleanValue("close-check", false, { targetingKey: `u${i}` });
// Tell the test we are connected; it changes the flag, which must arrive over the stream.
process.stdout.write("ready\n");
await changed;
await new Promise((r) => setTimeout(r, 120)); // a report goes out on its timer
await OpenFeature.close();
tracking = false;
clearInterval(work);
await new Promise((r) => setTimeout(r, 300));
hook.disable();
const stats = provider.stats();
const fdsLeft = [...descriptors()].filter(([fd, target]) => fdsBefore.get(fd) !== target);
// The listing itself holds one descriptor on /proc/self/fd while it runs.
const opened = fdsLeft.map(([, target]) => target).filter((t) => !t.endsWith("/fd") && !t.includes("/proc/"));
process.stdout.write(
  `${JSON.stringify({ alive: [...alive.values()], opened, reported: stats.evaluationsReported, revision: stats.revision })}\n`,
);
