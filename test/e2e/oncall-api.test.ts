import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gantry, type RunningGantry, up } from "./harness.ts";

let g: RunningGantry;
let admin: string;
let viewer: string;
let deployer: string;

beforeAll(async () => {
  g = await up({
    config: `oncall:
  people:
    ana: { contacts: [{ notifier: hook }] }
  notifiers:
    hook: { type: webhook, url: "http://127.0.0.1:9/hook", secret: s3cret }
    mail: { type: smtp, host: 127.0.0.1, from: gantry@example.com }
  schedules:
    primary: { layers: [{ name: weekly, participants: [ana], turn: 1w, start: 2026-01-05 }] }
  policies:
    main: { levels: [{ targets: [{ schedule: primary }], delay: 5m }] }
  routes: [{ service: web, policy: main }]
`,
  });
  admin = readFileSync(`${g.dataDir}/token`, "utf8").trim();
  viewer = await token("viewer");
  deployer = await token("deployer");
});
afterAll(async () => {
  await g.interrupt();
});

async function token(role: string): Promise<string> {
  const created = await gantry(g.dataDir, ["tokens", "create", "--role", role]);
  expect(created.code, created.stderr).toBe(0);
  return created.stdout.trim();
}

async function api(method: string, path: string, body?: unknown, bearer = admin) {
  const response = await fetch(`${g.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the API answers
  return { status: response.status, json: (text ? JSON.parse(text) : null) as any };
}

const zoe = { contacts: [{ notifier: "mail", to: "zoe@example.com" }] };
const nights = {
  timeZone: "Europe/Berlin",
  layers: [
    { name: "nightly", participants: ["zoe", "ana"], turn: "1d", start: "2026-01-05", handoff: "20:00" },
  ],
};
const pay = {
  levels: [
    { targets: [{ schedule: "nights" }], delay: "2m" },
    { targets: [{ person: "ana" }], delay: "10m" },
  ],
};

describe("on-call entries through the API", () => {
  it("lets an admin create, replace and delete people, schedules, policies and routes; viewers only read", async () => {
    expect((await api("PUT", "/api/v1/oncall/people/zoe?reason=joins", zoe, viewer)).json.error).toEqual({
      code: "FORBIDDEN",
      message: expect.stringContaining("PUT /api/v1/oncall/people/:name needs admin"),
    });
    expect((await api("PUT", "/api/v1/oncall/people/zoe", zoe, deployer)).status).toBe(403);
    expect((await api("PUT", "/api/v1/oncall/people/zoe", zoe, "nope")).status).toBe(401);

    const created = await api("PUT", "/api/v1/oncall/people/zoe?reason=joins", zoe);
    expect(created).toMatchObject({
      status: 200,
      json: { created: true, person: { name: "zoe", source: "api", spec: zoe } },
    });
    expect((await api("PUT", "/api/v1/oncall/schedules/nights", nights)).json.created).toBe(true);
    expect((await api("PUT", "/api/v1/oncall/policies/pay", pay)).status).toBe(200);
    const route = { service: "payments", severities: ["critical"], policy: "pay" };
    expect((await api("PUT", "/api/v1/oncall/routes/payments", route)).status).toBe(200);
    const replaced = await api("PUT", "/api/v1/oncall/people/zoe", { contacts: [{ notifier: "hook" }] });
    expect(replaced.json).toMatchObject({
      created: false,
      person: { spec: { contacts: [{ notifier: "hook" }] } },
    });

    const people = await api("GET", "/api/v1/oncall/people", undefined, viewer);
    expect(people.json.people.map((p: { name: string; source: string }) => `${p.name} ${p.source}`)).toEqual([
      "ana config",
      "zoe api",
    ]);
    const policy = await api("GET", "/api/v1/oncall/policies/pay", undefined, viewer);
    expect(policy.json).toEqual({
      policy: expect.objectContaining({ name: "pay", source: "api", spec: { ...pay, repeat: 0 } }),
      referencedBy: ["route payments (policy)"],
    });
    const schedule = await api(
      "GET",
      "/api/v1/oncall/schedules/nights?from=2026-03-09T12:00:00Z&for=1d",
      undefined,
      viewer,
    );
    expect(schedule.json).toMatchObject({
      schedule: { source: "api", spec: { timeZone: "Europe/Berlin" } },
      referencedBy: ["policy pay (levels[0].targets[0].schedule)"],
      onCall: { person: "zoe", layer: "nightly" },
    });
    const overview = await api("GET", "/api/v1/oncall", undefined, viewer);
    expect(overview.json.routes).toEqual([
      { service: "web", severities: ["critical", "high"], policy: "main", name: null, source: "config" },
      { ...route, name: "payments", source: "api" },
    ]);
    expect(overview.json.schedules.map((s: { name: string }) => s.name)).toEqual(["primary", "nights"]);
    expect(overview.json.policies.map((p: { name: string }) => p.name)).toEqual(["main", "pay"]);

    const audit = await api("GET", "/api/v1/audit?limit=100", undefined, viewer);
    expect(
      audit.json.events
        .filter((e: { action: string }) => e.action.startsWith("oncall."))
        .map(
          (e: { action: string; subject: string; reason: string | null }) =>
            `${e.action} ${e.subject} ${e.reason}`,
        ),
    ).toEqual([
      "oncall.person.declared person/zoe joins",
      "oncall.schedule.declared schedule/nights null",
      "oncall.policy.declared policy/pay null",
      "oncall.route.declared route/payments null",
      "oncall.person.declared person/zoe null",
    ]);

    expect((await api("DELETE", "/api/v1/oncall/routes/payments", undefined, viewer)).status).toBe(403);
    for (const [collection, name] of [
      ["routes", "payments"],
      ["policies", "pay"],
      ["schedules", "nights"],
      ["people", "zoe"],
    ])
      expect((await api("DELETE", `/api/v1/oncall/${collection}/${name}?reason=done`)).json).toEqual({
        deleted: name,
      });
    expect((await api("GET", "/api/v1/oncall/people/zoe")).status).toBe(404);
  });

  it("refuses bad entries naming the field, gantry.yaml's names, unknown names, and deleting what is named", async () => {
    const bad = await api("PUT", "/api/v1/oncall/schedules/late", {
      layers: [{ name: "x", participants: ["ana"], turn: "90m", start: "2026-01-05" }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "BAD_REQUEST", field: "layers[0].turn" });
    expect(bad.json.error.message).toContain(
      `layers[0].turn: a turn is weeks, days or hours, e.g. "1w", "2d" or "12h" (got "90m")`,
    );
    const extra = await api("PUT", "/api/v1/oncall/policies/late", { ...pay, owner: "me" });
    expect(extra.json.error.message).toContain("owner");
    expect((await api("PUT", "/api/v1/oncall/people/Bad Name", zoe)).json.error.field).toBe("name");

    const declared = await api("PUT", "/api/v1/oncall/policies/main", pay);
    expect(declared.status).toBe(409);
    expect(declared.json.error.message).toBe(
      `policy "main" is declared in gantry.yaml (oncall.policies.main); change it there, or choose another name for one made through the API`,
    );
    const remove = await api("DELETE", "/api/v1/oncall/people/ana");
    expect(remove.json.error).toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("(oncall.people.ana); remove it there"),
    });

    const unknown = await api("PUT", "/api/v1/oncall/policies/late", pay);
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ field: "levels[0].targets[0].schedule" });
    expect(unknown.json.error.message).toContain(`"nights" is not a known schedule (primary)`);
    const noRoute = await api("PUT", "/api/v1/oncall/routes/late", { policy: "late" });
    expect(noRoute.json.error.message).toContain(`policy: "late" is not a known policy (main)`);

    await api("PUT", "/api/v1/oncall/people/zoe", zoe);
    await api("PUT", "/api/v1/oncall/policies/zoe-first", {
      levels: [{ targets: [{ person: "zoe" }], delay: "1m" }],
    });
    const override = await api("POST", "/api/v1/oncall/schedules/primary/overrides", {
      person: "zoe",
      from: "2026-01-01T00:00:00Z",
      to: "2099-01-01T00:00:00Z",
    });
    expect(override.status).toBe(201);
    const held = await api("DELETE", "/api/v1/oncall/people/zoe");
    expect(held.status).toBe(409);
    expect(held.json.error.details.referrers).toEqual([
      "policy zoe-first (levels[0].targets[0].person)",
      `override ${override.json.override.id} (zoe on call for primary until 2099-01-01T00:00:00.000Z)`,
    ]);
    await api("DELETE", `/api/v1/oncall/overrides/${override.json.override.id}`);
    await api("DELETE", "/api/v1/oncall/policies/zoe-first");
    expect((await api("DELETE", "/api/v1/oncall/people/zoe")).status).toBe(200);
  });

  it("documents the operations in the OpenAPI document with their roles and bodies", async () => {
    const { json } = await api("GET", "/api/v1/openapi.json", undefined, viewer);
    for (const collection of ["people", "schedules", "policies", "routes"]) {
      const item = json.paths[`/api/v1/oncall/${collection}/{name}`];
      expect(item.put["x-gantry-role"], collection).toBe("admin");
      expect(item.delete["x-gantry-role"]).toBe("admin");
      expect(item.get["x-gantry-role"]).toBe("viewer");
      expect(json.paths[`/api/v1/oncall/${collection}`].get["x-gantry-role"]).toBe("viewer");
    }
    const schedule =
      json.paths["/api/v1/oncall/schedules/{name}"].put.requestBody.content["application/json"].schema;
    expect(schedule.required).toEqual(["layers"]);
    expect(schedule.properties.layers.items.properties.turn).toEqual({ type: "string" });
  });
});
