import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gantry, type RunningGantry, sleep, up } from "./harness.ts";

let g: RunningGantry;
let admin: string;
beforeAll(async () => {
  g = await up({
    config: "flags:\n  environments: [development, staging, production]\n",
  });
  admin = readFileSync(`${g.dataDir}/token`, "utf8").trim();
});
afterAll(async () => {
  await g.interrupt();
});

const checkout = {
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: "off",
  environments: {
    production: {
      enabled: true,
      rules: [{ clauses: [{ attribute: "country", operator: "in", values: ["DK"] }], variant: "on" }],
    },
  },
};

async function api(method: string, path: string, body?: unknown, token = admin, headers = {}) {
  const response = await fetch(`${g.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the API answers
    json: (text ? JSON.parse(text) : null) as any,
  };
}

async function token(role: string, env?: string): Promise<string> {
  const created = await gantry(g.dataDir, [
    "tokens",
    "create",
    "--role",
    role,
    ...(env ? ["--env", env] : []),
  ]);
  expect(created.code, created.stderr).toBe(0);
  return created.stdout.trim();
}

/** Reads server-sent events from a stream until `count` events or the timeout. */
async function readEvents(response: Response, count: number, timeoutMs = 5000) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event?: string; id?: string; retry?: string; data?: string }[] = [];
  let buffer = "";
  const deadline = Date.now() + timeoutMs;
  while (events.length < count && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), sleep(deadline - Date.now()).then(() => null)]);
    if (!chunk || chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const at = line.indexOf(": ");
        fields[line.slice(0, at)] = line.slice(at + 2);
      }
      if (fields.data !== undefined) events.push(fields);
      end = buffer.indexOf("\n\n");
    }
  }
  reader.releaseLock();
  return events;
}

describe("feature flags API", () => {
  it("creates, reads, lists and changes a flag; environments it leaves out are off", async () => {
    const created = await api("POST", "/api/v1/flags", { key: "checkout", ...checkout, reason: "new flow" });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.flag).toMatchObject({ key: "checkout", version: 1, createdBy: "local-admin" });
    expect(Object.keys(created.json.flag.environments)).toEqual(["development", "staging", "production"]);
    expect(created.json.flag.environments.staging.enabled).toBe(false);

    const got = await api("GET", "/api/v1/flags/checkout");
    expect(got.json.flag.environments.production.rules).toHaveLength(1);
    const listed = await api("GET", "/api/v1/flags");
    expect(listed.json.flags.map((f: { key: string }) => f.key)).toContain("checkout");
    expect(listed.json.environments.map((e: { name: string }) => e.name)).toEqual([
      "development",
      "staging",
      "production",
    ]);

    const staging = await api("PUT", "/api/v1/flags/checkout/environments/staging", {
      enabled: true,
      fallthrough: { variant: "on" },
      version: 1,
      reason: "try it in staging",
    });
    expect(staging.status, JSON.stringify(staging.json)).toBe(200);
    expect(staging.json.flag.version).toBe(2);
    expect(Object.keys(staging.json.revisions)).toEqual(["staging"]);

    const stale = await api("PUT", "/api/v1/flags/checkout/environments/staging", {
      enabled: false,
      version: 1,
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.message).toContain("changed since it was read");

    const evaluated = await api("POST", "/api/v1/flags/checkout/evaluate", {
      environment: "production",
      context: { targetingKey: "u1", country: "DK" },
    });
    expect(evaluated.json.result).toMatchObject({ value: true, variant: "on", reason: "TARGETING_MATCH" });
    const served = await api("GET", "/api/v1/flags/checkout");
    expect(served.json.lifecycle.served.production.on.count).toBe(1);
    expect(served.json.lifecycle.lastEvaluatedAt).not.toBeNull();

    const history = await api("GET", "/api/v1/flags/checkout/history");
    expect(history.json.events.map((e: { action: string }) => e.action)).toEqual([
      "flag.created",
      "flag.updated",
    ]);
    expect(history.json.events[1]).toMatchObject({ actor: "local-admin", reason: "try it in staging" });
    expect(history.json.events[1].data.changes).toContainEqual({
      path: "environments.staging.enabled",
      before: false,
      after: true,
    });
  });

  it("refuses a change that makes the flag set invalid, naming each field, and stores nothing", async () => {
    const before = await api("GET", "/api/v1/sdk/flags?env=production");
    const bad = await api("POST", "/api/v1/flags", {
      key: "broken",
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "of",
      environments: {
        prod: { enabled: true },
        production: {
          enabled: true,
          prerequisites: [{ flagKey: "nope", variant: "on" }],
          rules: [{ clauses: [{ attribute: "plan", operator: "like", values: ["x"] }], variant: "on" }],
        },
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe("INVALID_FLAG_SET");
    const paths = bad.json.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain("flags.broken.environments.prod");
    expect(paths).toContain("flags.broken.environments.production.rules[0].clauses[0].operator");
    expect(bad.json.error.message).toContain('unknown environment "prod"');

    const unknownSegment = await api("PUT", "/api/v1/flags/checkout/environments/development", {
      enabled: true,
      rules: [{ clauses: [{ operator: "segmentMatch", values: ["beta"] }], variant: "on" }],
    });
    expect(unknownSegment.status).toBe(422);
    expect(unknownSegment.json.error.message).toContain("flags.checkout.environments.development.rules[0]");

    const after = await api("GET", "/api/v1/sdk/flags?env=production");
    expect(after.json.revision).toBe(before.json.revision);
    expect((await api("GET", "/api/v1/flags/broken")).status).toBe(404);
  });

  it("serves an sdk token its own environment's flag set with an ETag, 304 when unchanged", async () => {
    const sdk = await token("sdk", "production");
    const first = await api("GET", "/api/v1/sdk/flags", undefined, sdk);
    expect(first.status).toBe(200);
    expect(first.json.environment).toBe("production");
    expect(first.headers.get("etag")).toBe(`"${first.json.revision}"`);
    expect(Object.keys(first.json.flagSet.flags.checkout.environments)).toEqual(["production"]);
    expect(first.json.flagSet).toHaveProperty("segments");

    const again = await api("GET", "/api/v1/sdk/flags", undefined, sdk, {
      "if-none-match": first.headers.get("etag")!,
    });
    expect(again.status).toBe(304);
    expect(again.json).toBeNull();

    // A change elsewhere does not touch production's revision; one in production does.
    await api("PUT", "/api/v1/flags/checkout/environments/development", { enabled: true });
    expect((await api("GET", "/api/v1/sdk/flags", undefined, sdk)).json.revision).toBe(first.json.revision);
    await api("PUT", "/api/v1/flags/checkout/environments/production", { enabled: false });
    const changed = await api("GET", "/api/v1/sdk/flags", undefined, sdk, {
      "if-none-match": first.headers.get("etag")!,
    });
    expect(changed.status).toBe(200);
    expect(changed.json.revision).toBeGreaterThan(first.json.revision);
  });

  it("keeps sdk tokens to their environment; one without an environment gets a 403 that says how to fix it", async () => {
    const production = await token("sdk", "production");
    const other = await api("GET", "/api/v1/sdk/flags?env=staging", undefined, production);
    expect(other.status).toBe(403);
    const unbound = await token("sdk");
    const refused = await api("GET", "/api/v1/sdk/flags", undefined, unbound);
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toContain("--env");
    expect((await api("GET", "/api/v1/flags", undefined, production)).status).toBe(403);
    const viewer = await token("viewer");
    expect((await api("GET", "/api/v1/sdk/flags", undefined, viewer)).status).toBe(400);
    expect((await api("GET", "/api/v1/sdk/flags?env=staging", undefined, viewer)).status).toBe(200);
    const typo = await gantry(g.dataDir, ["tokens", "create", "--role", "sdk", "--env", "prod"]);
    expect(typo.code).toBe(4);
    expect(typo.stderr).toContain("development, staging, production");
  });

  it("streams the flag set over SSE on connect and after every change of the environment", async () => {
    const sdk = await token("sdk", "staging");
    const abort = new AbortController();
    const stream = await fetch(`${g.apiUrl}/api/v1/sdk/flags/stream`, {
      headers: { authorization: `Bearer ${sdk}` },
      signal: abort.signal,
    });
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const [first] = await readEvents(stream, 1);
    expect(first).toMatchObject({ event: "flags", retry: "1000" });
    const body = JSON.parse(first!.data!);
    expect(body.environment).toBe("staging");
    expect(first!.id).toBe(String(body.revision));

    const changedAt = Date.now();
    await api("PUT", "/api/v1/flags/checkout/environments/staging", {
      enabled: true,
      fallthrough: { variant: "off" },
    });
    const [next] = await readEvents(stream, 1);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    const nextBody = JSON.parse(next!.data!);
    expect(Number(next!.id)).toBe(nextBody.revision);
    expect(nextBody.revision).toBeGreaterThan(body.revision);
    expect(nextBody.flagSet.flags.checkout.environments.staging.fallthrough).toEqual({ variant: "off" });
    abort.abort();

    // A client that already has the current revision gets no first event.
    const resumed = await fetch(`${g.apiUrl}/api/v1/sdk/flags/stream`, {
      headers: { authorization: `Bearer ${sdk}`, "last-event-id": String(nextBody.revision) },
    });
    expect(await readEvents(resumed, 1, 700)).toEqual([]);
    await resumed.body?.cancel();
  });

  it("takes evaluation counts from sdk tokens into the flag's lifecycle, ignoring unknown flags", async () => {
    await api("POST", "/api/v1/flags", { key: "reported", ...checkout });
    const sdk = await token("sdk", "production");
    const reported = await api(
      "POST",
      "/api/v1/sdk/flags/evaluations",
      {
        evaluations: [
          { flagKey: "reported", variant: "on", count: 12, lastAt: "2026-01-02T10:00:00.000Z" },
          { flagKey: "reported", variant: "off", count: 3, lastAt: "2026-01-02T11:00:00.000Z" },
          { flagKey: "gone", variant: "on", count: 1, lastAt: "2026-01-02T11:00:00.000Z" },
        ],
      },
      sdk,
    );
    expect(reported.status).toBe(202);
    expect(reported.json).toEqual({ accepted: 2, ignored: 1 });
    const { json } = await api("GET", "/api/v1/flags/reported");
    expect(json.lifecycle.served.production.on.count).toBe(12);
    expect(json.lifecycle.served.production.off).toMatchObject({
      count: 3,
      lastAt: "2026-01-02T11:00:00.000Z",
    });
    const unbound = await token("sdk");
    expect((await api("POST", "/api/v1/sdk/flags/evaluations", { evaluations: [] }, unbound)).status).toBe(
      403,
    );
    const tooMany = Array.from({ length: 1001 }, () => ({
      flagKey: "x",
      variant: "on",
      count: 1,
      lastAt: "2026-01-02T10:00:00Z",
    }));
    expect((await api("POST", "/api/v1/sdk/flags/evaluations", { evaluations: tooMany }, sdk)).status).toBe(
      400,
    );
  });

  it("lets deployers change unprotected environments but only admins what production serves", async () => {
    const deployer = await token("deployer");
    const staging = await api(
      "PUT",
      "/api/v1/flags/checkout/environments/staging",
      { enabled: false },
      deployer,
    );
    expect(staging.status).toBe(200);
    const production = await api(
      "PUT",
      "/api/v1/flags/checkout/environments/production",
      { enabled: true },
      deployer,
    );
    expect(production.status).toBe(403);
    expect(production.json.error.message).toContain("production is protected");
    const variants = await api(
      "PUT",
      "/api/v1/flags/checkout",
      { ...checkout, variants: { on: "yes", off: false } },
      deployer,
    );
    expect(variants.status).not.toBe(200);
    const created = await api(
      "POST",
      "/api/v1/flags",
      { key: "dark-mode", ...checkout, environments: { staging: { enabled: true } } },
      deployer,
    );
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const viewer = await token("viewer");
    expect(
      (await api("PUT", "/api/v1/flags/checkout/environments/staging", { enabled: true }, viewer)).status,
    ).toBe(403);
  });

  it("closes open SSE streams on Ctrl-C, so gantry up stops promptly", async () => {
    const other = await up({});
    const otherAdmin = readFileSync(`${other.dataDir}/token`, "utf8").trim();
    const stream = await fetch(`${other.apiUrl}/api/v1/sdk/flags/stream?env=production`, {
      headers: { authorization: `Bearer ${otherAdmin}` },
    });
    await readEvents(stream, 1);
    const started = Date.now();
    expect(await other.interrupt()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
