import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gantry, type RunningGantry, up, waitUntil } from "./harness.ts";

let g: RunningGantry;
beforeAll(async () => {
  g = await up({ config: "flags:\n  environments: [staging, production]\n" });
});
afterAll(async () => {
  await g?.interrupt();
});

async function ok(args: string[], env: Record<string, string> = {}) {
  const result = await gantry(g.dataDir, args, env);
  expect(result.code, `gantry ${args.join(" ")}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

async function evaluate(flag: string, environment: string, context: object) {
  return JSON.parse(
    await ok(["flags", "eval", flag, "--env", environment, "--context", JSON.stringify(context), "--json"]),
  ).result;
}

async function sdkFlagSet(environment: string) {
  const sdk = (await ok(["tokens", "create", "--role", "sdk", "--env", environment])).trim();
  const response = await fetch(`${g.apiUrl}/api/v1/sdk/flags`, {
    headers: { authorization: `Bearer ${sdk}` },
  });
  return (await response.json()) as {
    revision: number;
    flagSet: { flags: Record<string, { environments: Record<string, { enabled: boolean }> }> };
  };
}

describe("gantry flags", () => {
  it("takes a flag from created to on with rules and a rollout, each step visible in get, list and eval", async () => {
    expect(await ok(["flags", "create", "checkout", "--description", "new checkout"])).toContain(
      "off in staging, production",
    );
    await ok(["flags", "segment", "set", "beta", "--if", "email endsWith/i @acme.com", "--include", "u-7"]);
    await ok([
      "flags",
      "rule",
      "add",
      "checkout",
      "--env",
      "production",
      "--if",
      "country in DK,SE",
      "--serve",
      "on",
    ]);
    const rules = await ok([
      "flags",
      "rule",
      "add",
      "checkout",
      "--env",
      "production",
      "--if",
      "segment beta",
      "--serve",
      "on",
      "--position",
      "1",
    ]);
    expect(rules).toMatch(/1\s+segment beta\s+on/);
    expect(rules).toMatch(/2\s+country in DK,SE\s+on/);
    await ok(["flags", "set", "checkout", "--env", "production", "on", "--rollout", "on=10,off=90"]);

    expect(
      await evaluate("checkout", "production", { targetingKey: "u-1", email: "A@ACME.com" }),
    ).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
    expect(await evaluate("checkout", "production", { targetingKey: "u-2", country: "SE" })).toMatchObject({
      value: true,
    });
    expect((await evaluate("checkout", "production", { targetingKey: "u-3", country: "US" })).reason).toBe(
      "SPLIT",
    );
    expect(await evaluate("checkout", "staging", { targetingKey: "u-1", country: "DK" })).toMatchObject({
      value: false,
      reason: "DISABLED",
    });

    const list = await ok(["flags", "list"]);
    expect(list).toMatch(/checkout\s+boolean\s+off→off\s+on→split on=10% off=90% \+2 rules/);
    const get = await ok(["flags", "get", "checkout"]);
    expect(get).toContain("1. if segment beta → on");
    expect(get).toContain("otherwise → split on=10% off=90%");

    await ok(["flags", "rule", "move", "checkout", "--env", "production", "1", "--to", "2"]);
    const removed = await ok(["flags", "rule", "remove", "checkout", "--env", "production", "2"]);
    expect(removed).toMatch(/1\s+country in DK,SE/);
    expect(removed).not.toContain("segment beta");

    const history = await ok(["flags", "history", "checkout", "--env", "production"]);
    expect(history).toContain("environments.production.enabled: false → true");
    expect(history).toContain(
      'environments.production.fallthrough.split: (none) → [{"variant":"on","weight":10},{"variant":"off","weight":90}]',
    );
  });

  it("refuses bad input naming the field, and changes nothing", async () => {
    const before = await sdkFlagSet("production");
    const operator = await gantry(g.dataDir, [
      "flags",
      "rule",
      "add",
      "checkout",
      "--env",
      "production",
      "--if",
      "country like DK",
      "--serve",
      "on",
    ]);
    expect(operator.code).toBe(2);
    expect(operator.stderr).toContain('unknown operator "like"');
    const variant = await gantry(g.dataDir, [
      "flags",
      "set",
      "checkout",
      "--env",
      "production",
      "--serve",
      "maybe",
    ]);
    expect(variant.code).toBe(2);
    expect(variant.stderr).toContain("flags.checkout.environments.production.fallthrough.variant");
    expect(variant.stderr).toContain('unknown variant "maybe"');
    const split = await gantry(g.dataDir, [
      "flags",
      "set",
      "checkout",
      "--env",
      "production",
      "--rollout",
      "on=60,off=60",
    ]);
    expect(split.code).toBe(2);
    expect(split.stderr).toContain("they must add up to 100");
    const segment = await gantry(g.dataDir, ["flags", "segment", "delete", "beta"]);
    expect(segment.code, segment.stderr).toBe(0);
    expect((await sdkFlagSet("production")).revision).toBeGreaterThan(before.revision);
    const env = await gantry(g.dataDir, ["flags", "set", "checkout", "--env", "prod", "on"]);
    expect(env.code).toBe(4);
  });

  it("lets only an admin change production, while a deployer may change staging and pull the kill switch anywhere", async () => {
    const deployer = (await ok(["tokens", "create", "--role", "deployer", "--name", "dana"])).trim();
    const as = { GANTRY_TOKEN: deployer };
    const refused = await gantry(g.dataDir, ["flags", "set", "checkout", "--env", "production", "off"], as);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("production is protected: it needs role admin");
    await ok(["flags", "set", "checkout", "--env", "staging", "on"], as);

    const scheduled = await ok([
      "flags",
      "schedule",
      "add",
      "checkout",
      "--env",
      "production",
      "--in",
      "2h",
      "--rollout",
      "on=50,off=50",
    ]);
    expect(scheduled).toMatch(/scheduled #\d+/);
    const noReason = await gantry(g.dataDir, ["flags", "kill", "checkout", "--env", "production"], as);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("--reason is required");
    const killed = await ok(
      ["flags", "kill", "checkout", "--env", "production", "--reason", "checkout 500s"],
      as,
    );
    expect(killed).toMatch(
      /killed checkout in production: everyone gets "off"; cancelled scheduled change #\d+/,
    );
    expect(await evaluate("checkout", "production", { targetingKey: "u-2", country: "SE" })).toMatchObject({
      value: false,
      reason: "DISABLED",
    });
    expect((await sdkFlagSet("production")).flagSet.flags.checkout!.environments.production!.enabled).toBe(
      false,
    );
    expect(await ok(["flags", "schedule", "list"])).not.toContain("checkout");

    const audit = JSON.parse(await ok(["audit", "--action", "flag.killed", "--json"]));
    expect(audit.events.at(-1)).toMatchObject({
      actor: "dana",
      reason: "checkout 500s",
      subject: "flag/checkout",
    });
    expect(audit.events.at(-1).data.changes).toEqual([
      { path: "environments.production.enabled", before: true, after: false },
    ]);
  });

  it("reports stale flags from what SDKs say they served", async () => {
    for (const key of ["one-way", "forgotten", "busy"]) await ok(["flags", "create", key]);
    const sdk = (await ok(["tokens", "create", "--role", "sdk", "--env", "production"])).trim();
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
    const now = new Date().toISOString();
    const report = await fetch(`${g.apiUrl}/api/v1/sdk/flags/evaluations`, {
      method: "POST",
      headers: { authorization: `Bearer ${sdk}`, "content-type": "application/json" },
      body: JSON.stringify({
        evaluations: [
          { flagKey: "one-way", variant: "on", count: 900, lastAt: daysAgo(40) },
          { flagKey: "one-way", variant: "on", count: 100, lastAt: now },
          { flagKey: "forgotten", variant: "off", count: 5, lastAt: daysAgo(45) },
          { flagKey: "busy", variant: "on", count: 5, lastAt: daysAgo(40) },
          { flagKey: "busy", variant: "on", count: 5, lastAt: now },
          { flagKey: "busy", variant: "off", count: 5, lastAt: now },
        ],
      }),
    });
    expect(report.status).toBe(202);
    const { stale } = JSON.parse(await ok(["flags", "stale", "--days", "30", "--json"]));
    expect(stale.map((s: { flagKey: string; reason: string }) => [s.flagKey, s.reason])).toEqual([
      ["forgotten", "not-evaluated"],
      ["one-way", "one-variant"],
    ]);
    expect(await ok(["flags", "stale", "--days", "30"])).toContain(
      'served only "on" (in production) for at least 30 days',
    );
  });
});

describe("gantry apply", () => {
  it("syncs a flags file: a dry run shows the diff, apply changes it all at once, a bad file changes nothing", async () => {
    const file = join(g.dataDir, "..", `${g.dataDir.split("/").pop()}-flags.yaml`);
    writeFileSync(
      file,
      `flags:
  dark-mode:
    type: boolean
    variants: { on: true, off: false }
    defaultVariant: off
    environments:
      staging: { enabled: true, fallthrough: { variant: off } }
  banner:
    type: string
    variants: { blue: "#00f", red: "#f00" }
    defaultVariant: blue
    environments:
      production:
        enabled: true
        rules:
          - clauses: [{ attribute: plan, operator: in, values: [gold] }]
            variant: red
segments:
  staff: { included: [u-1, u-2] }
plans:
  gold: { flags: { dark-mode: on } }
`,
    );
    const dry = await ok(["apply", "-f", file, "--dry-run"]);
    expect(dry).toContain("+ flag dark-mode (created)");
    expect(dry).toContain("+ segment staff (created)");
    expect(dry).toContain("dry run: 4 changes would be applied");
    expect((await gantry(g.dataDir, ["flags", "get", "dark-mode"])).code).toBe(4);

    const applied = await ok(["apply", "-f", file, "--reason", "from git"]);
    expect(applied).toContain("applied 4 changes");
    expect(await evaluate("banner", "production", { targetingKey: "u", plan: "gold" })).toMatchObject({
      value: "#f00",
    });
    expect(await evaluate("dark-mode", "staging", { targetingKey: "u", plan: "gold" })).toMatchObject({
      value: true,
    });
    expect(await evaluate("dark-mode", "staging", { targetingKey: "u" })).toMatchObject({ value: false });
    expect(await ok(["apply", "-f", file])).toContain("nothing to change");

    const exported = await ok(["flags", "export"]);
    expect(exported).toContain("dark-mode:");
    expect(exported).not.toContain("prerequisites: []");

    const bad = readFileSync(file, "utf8")
      .replace("variant: red", "variant: green")
      .replace("defaultVariant: off", "defaultVariant: on");
    writeFileSync(
      file,
      bad.replace("staff: { included: [u-1, u-2] }", "staff: { included: [u-1, u-2, u-3] }"),
    );
    const refused = await gantry(g.dataDir, ["apply", "-f", file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'flags.banner.environments.production.rules[0].variant: unknown variant "green"',
    );
    const segments = JSON.parse(await ok(["flags", "segment", "list", "--json"])).segments;
    expect(segments.staff.included).toEqual(["u-1", "u-2"]);

    writeFileSync(
      file,
      "flags:\n  banner:\n    type: string\n    variants: { blue: blue }\n    defaultVariant: blue\n",
    );
    const pruned = await ok(["apply", "-f", file, "--prune", "--dry-run"]);
    expect(pruned).toContain("- flag dark-mode (deleted)");
    expect(pruned).toContain("- flag checkout (deleted)");
    expect(pruned).toContain("- plan gold (deleted)");
  });
});

describe("scheduled flag changes", () => {
  it("applies a change at its time, and one that came due while Gantry was down as soon as it starts", async () => {
    await ok(["flags", "create", "launch"]);
    await ok([
      "flags",
      "schedule",
      "add",
      "launch",
      "--env",
      "staging",
      "--in",
      "1s",
      "on",
      "--reason",
      "go live",
    ]);
    await waitUntil(
      async () => (await evaluate("launch", "staging", { targetingKey: "u" })).value === true,
      10_000,
      "the scheduled change to be applied",
    );
    const history = await ok(["flags", "history", "launch"]);
    expect(history).toContain("flag-schedule.applied");
    expect(history).toMatch(/flag\.updated\s+by local-admin\s+\[staging\]\s+— scheduled change \d+: go live/);

    await ok(["flags", "schedule", "add", "launch", "--env", "production", "--in", "2s", "on"]);
    await ok(["flags", "schedule", "add", "launch", "--env", "staging", "--in", "1h", "off"]);
    expect(await g.interrupt()).toBe(0);
    await new Promise((r) => setTimeout(r, 2500));
    g = await up({ dataDir: g.dataDir, config: "flags:\n  environments: [staging, production]\n" });
    expect(await evaluate("launch", "production", { targetingKey: "u" })).toMatchObject({ value: true });
    const pending = await ok(["flags", "schedule", "list"]);
    expect(pending).toMatch(/launch\s+staging\s+off\s+pending/);
    const id = pending.match(/^(\d+)\s+\S+\s+launch\s+staging/m)![1]!;
    expect(await ok(["flags", "schedule", "cancel", id])).toContain(`cancelled scheduled change #${id}`);
    expect(await ok(["flags", "schedule", "list"])).not.toContain("launch");
  });
});
