import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino, { type Logger } from "pino";
import { type ResourceSample, routerSamples } from "./analysis/index.ts";
import { apiRoutes, createApi } from "./api/index.ts";
import { type AuditEvent, AuditLog } from "./audit/index.ts";
import { TokenService } from "./auth/index.ts";
import { type ConfigOverrides, type GantryConfig, loadConfigFile, resolveConfig } from "./config/index.ts";
import { declareDemo, declareDemoSlo, deployDemoIfNothingLive } from "./demo.ts";
import { GantryError } from "./errors/index.ts";
import { ExperimentStore } from "./experiments/index.ts";
import { openFlags } from "./flags/index.ts";
import {
  ExperimentAlertFeed,
  feedRolloutAlerts,
  IncidentService,
  IncidentStore,
  SloAlertFeed,
} from "./incidents/index.ts";
import { controlPlaneMetrics } from "./metrics/index.ts";
import { Switchboard } from "./modes/index.ts";
import { createNotifier, OncallDirectory, Pager } from "./oncall/index.ts";
import { activeFreezes, FreezeStore, ReleasePolicy } from "./policy/index.ts";
import { importRelease } from "./releases/index.ts";
import {
  adoptInstances,
  Converger,
  ensurePinKey,
  InstanceRecords,
  MonitoredHealth,
  RolloutOrchestrator,
  RolloutRecords,
  syncHealthToTraffic,
  TrafficController,
} from "./rollout/index.ts";
import { connectRouter, type RouterConnection } from "./router-link.ts";
import { allocatePort, instanceStats, LocalRuntime } from "./runtime/index.ts";
import { ReleaseIntake, ServiceCatalog } from "./services/index.ts";
import {
  type InstanceUsage,
  PrometheusSlis,
  SliRecorder,
  SliStore,
  SloCatalog,
  SloEngine,
  SloService,
} from "./slo/index.ts";
import { openSqliteStore } from "./store/index.ts";

export interface StartOptions {
  dataDir: string;
  /** gantry.yaml; when absent, ./gantry.yaml is read if it exists. */
  configPath?: string | undefined;
  overrides?: ConfigOverrides;
  demo?: boolean;
  /** Where log lines go; defaults to DATA/gantry.log. */
  logDestination?: string;
  /** Called with every audit event (the console of `gantry up` prints them). */
  onEvent?: (event: AuditEvent) => void;
  version?: string;
}

export interface Gantry {
  apiUrl: string;
  routerUrl: string;
  dataDir: string;
  config: Readonly<GantryConfig>;
  log: Logger;
  /** Ctrl-C: stops instances, the router and the control plane; nothing is left running. */
  shutdown(): Promise<void>;
  /** Stops only the control plane; the router and instances keep serving (used by tests of restarts). */
  detach(): Promise<void>;
}

/** The composition root: config → store → services → router, runtime, API and loops. */
export async function startGantry(options: StartOptions): Promise<Gantry> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const configPath = options.configPath ?? (existsSync("gantry.yaml") ? "gantry.yaml" : undefined);
  const config = resolveConfig(
    configPath ? loadConfigFile(configPath) : undefined,
    process.env,
    options.overrides ?? {},
  );
  const log = pino(
    { level: process.env.GANTRY_LOG_LEVEL ?? "info", redact: ["req.headers.authorization", "token"] },
    pino.destination({ dest: options.logDestination ?? `${dataDir}/gantry.log`, mkdir: true, sync: false }),
  );
  const now = () => new Date();

  const store = await openSqliteStore(`${dataDir}/gantry.db`);
  const tokens = new TokenService(store.db, now);
  await tokens.ensureLocalAdminToken(dataDir);
  // Instances report to Gantry (experiment results, later flag evaluations) with a token that can only report.
  const sdkToken = await tokens.ensureLocalToken(`${dataDir}/sdk-token`, "instances", "sdk");
  let apiUrl = "";
  const audit = new AuditLog(store.db, now);
  if (options.onEvent) audit.onRecord(options.onEvent);
  const catalog = new ServiceCatalog(store.db, now);
  for (const [name, spec] of Object.entries(config.services)) {
    if (await catalog.put(name, spec, "config")) {
      await audit.record({ actor: "gantry.yaml", action: "service.declared", service: name, data: { spec } });
    }
  }
  if (options.demo) await declareDemo({ dataDir, catalog, audit });
  const sloCatalog = new SloCatalog(store.db, now);
  for (const [name, slo] of Object.entries(config.slos)) {
    if (!(await catalog.find(slo.service)))
      throw new GantryError(
        "INVALID_CONFIG",
        `slos.${name}.service: service "${slo.service}" is not declared; declare it under services: (or start with --demo for "demo")`,
        { field: `slos.${name}.service` },
      );
  }
  await sloCatalog.syncFromConfig(config.slos);
  if (options.demo) await declareDemoSlo({ slos: sloCatalog, audit });
  const freezes = new FreezeStore(store.db, now);
  await freezes.syncFromConfig(config.freezes);

  const runtime = new LocalRuntime({ dataDir });
  const router: RouterConnection = await connectRouter({ dataDir, server: config.server, log });
  const health = new MonitoredHealth();
  const instances = new InstanceRecords(store.db, now);
  const rollouts = new RolloutRecords(store.db, now);
  const pinKey = ensurePinKey(`${dataDir}/pin.key`);
  const traffic = new TrafficController({ catalog, instances, health, router: router.admin, log, pinKey });
  const instanceEnv = () => ({
    GANTRY_API: apiUrl,
    GANTRY_SDK_TOKEN: sdkToken,
    GANTRY_SDK_MODULE: sdkModule,
  });
  const converger = new Converger({
    catalog,
    instances,
    runtime,
    health,
    router: router.admin,
    traffic,
    allocatePort,
    instanceEnv,
    now,
    log,
  });
  const policy = new ReleasePolicy({ catalog, freezes, audit, now });
  const experiments = new ExperimentStore(store.db);
  const orchestrator = new RolloutOrchestrator({
    catalog,
    rollouts,
    instances,
    converger,
    policy,
    audit,
    now,
    log,
    samples: async (service) => routerSamples(await router.admin.metrics(), service),
    shadowStats: () => router.admin.shadow(),
    experiments: async (name) => (await experiments.find(name))?.counts,
    resources: async (service) => {
      const byVersion = new Map<string, ResourceSample[]>();
      for (const i of await runtime.list()) {
        if (i.service !== service || i.pid === null) continue;
        const stats = instanceStats(i.pid);
        if (!stats) continue;
        const list = byVersion.get(i.version) ?? [];
        list.push({ instance: i.id, cpuSeconds: stats.cpuSeconds, rssBytes: stats.rssBytes });
        byVersion.set(i.version, list);
      }
      return byVersion;
    },
  });
  const switchboard = new Switchboard({ catalog, audit, publish: () => traffic.publish(), now });
  const intake = new ReleaseIntake({ dataDir, catalog, audit, importRelease, now });
  const flags = await openFlags({ db: store.db, audit, environments: config.flags.environments, now, log });
  const sliStore = new SliStore(store.db, config.sli);
  const sloEngine = new SloEngine({
    catalog: sloCatalog,
    store: sliStore,
    now,
    log,
    prometheus: new PrometheusSlis({ store: sliStore }),
  });
  await sloEngine.load();
  const sliRecorder = new SliRecorder({
    store: sliStore,
    routerMetrics: () => router.admin.metrics(),
    instanceUsage: async () => instanceUsage(await runtime.list()),
    now,
    log,
  });
  const incidents = new IncidentService({
    store: new IncidentStore(store.db),
    audit,
    now,
    changesBefore: config.incidents.changesBefore,
    log,
  });
  incidents.watchChanges();
  feedRolloutAlerts(audit, incidents, log);
  const experimentAlerts = new ExperimentAlertFeed({
    rules: config.experiments,
    recent: (name, limit) => experiments.recentOutcomes(name, limit),
    incidents,
    log,
  });
  const sloAlerts = new SloAlertFeed({ engine: sloEngine, incidents, log });
  const oncall = new OncallDirectory({ spec: config.oncall, db: store.db, audit, now, log });
  await oncall.load();
  const notifiers = new Map(
    Object.entries(config.oncall.notifiers).map(([name, spec]) => [
      name,
      createNotifier(spec, { now, timeoutMs: config.oncall.delivery.timeout }),
    ]),
  );
  const pager = new Pager({
    db: store.db,
    directory: oncall,
    incidents,
    notifiers,
    now,
    link: (id) => `${apiUrl}/api/v1/incidents/${id}`,
    delivery: config.oncall.delivery,
    log,
  });
  sliRecorder.onSamples((samples) => {
    sloEngine.record(samples);
    void sloAlerts.evaluate();
  });
  const slos = new SloService({
    catalog: sloCatalog,
    engine: sloEngine,
    store: sliStore,
    audit,
    serviceExists: async (name) => (await catalog.find(name)) !== undefined,
    now,
  });

  await adoptInstances({ runtime, instances, catalog, health, log });
  syncHealthToTraffic(health, instances, traffic, log);
  await traffic.attach();
  await traffic.publish();
  router.onRestart(() => traffic.publish());

  const metrics = controlPlaneMetrics({
    catalog,
    instances,
    health,
    experiments,
    routerMetrics: () => router.admin.metrics(),
  });
  const api = createApi({
    routes: apiRoutes({
      catalog,
      rollouts,
      instances,
      orchestrator,
      intake,
      audit,
      tokens,
      runtime,
      health,
      metrics,
      switchboard,
      freezes,
      experiments,
      flags,
      pinKey,
      experimentsReported: (names) => void experimentAlerts.evaluate(names),
      slos,
      incidents,
      oncall,
      pager,
      breakers: () => router.admin.breakers(),
      frozenBy: async (service) =>
        activeFreezes(await freezes.list(), service, now()).map((f) => f.spec.name),
    }),
    tokens,
    log,
    version: options.version ?? "0.1.0",
    tokenFile: `${dataDir}/token`,
  });
  await api.listen({ host: config.server.apiHost, port: config.server.apiPort });
  const address = api.server.address();
  const apiPort = typeof address === "object" && address ? address.port : config.server.apiPort;
  apiUrl = `http://${urlHost(config.server.apiHost)}:${apiPort}`;
  writeFileSync(`${dataDir}/api.json`, `${JSON.stringify({ url: apiUrl, pid: process.pid })}\n`);

  sliRecorder.start();
  // SLIs read from Prometheus, on the interval the router is sampled.
  let collecting: Promise<void> | undefined;
  const prometheusSlis = setInterval(() => {
    collecting ??= sloEngine
      .collect()
      .then((changed) => (changed ? sloAlerts.evaluate() : undefined))
      .catch((err) => log.warn({ err }, "reading SLIs from Prometheus failed"))
      .finally(() => {
        collecting = undefined;
      });
  }, config.sli.interval);
  pager.start();
  await orchestrator.resume();
  void orchestrator.reconcileSteadyState().then(async () => {
    if (options.demo) await deployDemoIfNothingLive({ dataDir, catalog, intake, orchestrator, log });
  });
  const janitor = setInterval(() => {
    void orchestrator.reconcileSteadyState();
    void instances.prune();
  }, 5000);
  // Timed modes end in the router by themselves; this records it and cleans the switch.
  const modeClock = setInterval(
    () => void switchboard.expireModes().catch((err) => log.error({ err }, "mode expiry failed")),
    1000,
  );

  let closing: Promise<void> | undefined;
  const stopControlPlane = async () => {
    clearInterval(janitor);
    clearInterval(modeClock);
    await sliRecorder.stop();
    clearInterval(prometheusSlis);
    await collecting;
    await sloAlerts.evaluate();
    await incidents.settled();
    await pager.stop();
    for (const n of notifiers.values()) n.close?.();
    router.close();
    await orchestrator.stop();
    // Open SSE streams would keep the API from closing.
    await flags.close();
    // So would a client's connection that never sent a request (Node waits for its headers
    // timeout): in-flight requests get a second, then every connection is cut.
    const cut = setTimeout(() => api.server.closeAllConnections(), 1000);
    await api.close();
    clearTimeout(cut);
    health.stop();
  };
  return {
    apiUrl,
    routerUrl: `http://${urlHost(config.server.routerHost)}:${router.port}`,
    dataDir,
    config,
    log,
    shutdown() {
      closing ??= (async () => {
        await stopControlPlane();
        const alive = await instances.alive();
        await Promise.all(alive.map((i) => runtime.stop(i.id).catch(() => undefined)));
        for (const i of alive) await instances.setState(i.id, "stopped");
        await router.stopProcess();
        await store.close();
        log.flush();
      })();
      return closing;
    },
    detach() {
      closing ??= (async () => {
        await stopControlPlane();
        await store.close();
        log.flush();
      })();
      return closing;
    },
  };
}

/** This checkout's @gantry/sdk, for apps deployed from it (the demo) that have no node_modules of their own. */
const sdkModule = fileURLToPath(new URL("../../sdk/src/index.ts", import.meta.url));

/** CPU and memory of the running instances, from /proc through the runtime's pids. */
function instanceUsage(statuses: Awaited<ReturnType<LocalRuntime["list"]>>): InstanceUsage[] {
  const out: InstanceUsage[] = [];
  for (const s of statuses) {
    if (s.state !== "running" || s.pid === null) continue;
    const stats = instanceStats(s.pid);
    if (stats)
      out.push({
        id: s.id,
        service: s.service,
        version: s.version,
        cpuSeconds: stats.cpuSeconds,
        rssBytes: stats.rssBytes,
      });
  }
  return out;
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
