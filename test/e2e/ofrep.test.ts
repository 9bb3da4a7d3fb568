import { OFREPProvider } from "@openfeature/ofrep-provider";
import { type Client, ErrorCode, OpenFeature } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGantry, up } from "./harness.ts";
import { createOfrepFlags, ofrepConfig } from "./ofrep-fixtures.ts";
import { call, createToken, nullPaths } from "./ofrep-support.ts";

let g: RunningGantry;
let production: string;
let client: Client;
beforeAll(async () => {
  g = await up({ config: ofrepConfig });
  await createOfrepFlags(g);
  production = await createToken(g, "sdk", "production");
  await OpenFeature.setProviderAndWait(
    new OFREPProvider({ baseUrl: g.apiUrl, headers: [["Authorization", `Bearer ${production}`]] }),
  );
  client = OpenFeature.getClient();
});
afterAll(async () => {
  await OpenFeature.close();
  await g.interrupt();
});

describe("OFREP with the real @openfeature/ofrep-provider and server SDK", () => {
  it("evaluates each type with the reason and variant Gantry served", async () => {
    expect(
      await client.getBooleanDetails("new-checkout", false, { targetingKey: "u1", country: "DK" }),
    ).toMatchObject({ value: true, variant: "on", reason: "TARGETING_MATCH" });
    expect(
      await client.getBooleanDetails("new-checkout", true, { targetingKey: "u1", country: "SE" }),
    ).toMatchObject({ value: false, variant: "off", reason: "DEFAULT" });
    const banner = await client.getStringDetails("banner", "none", { targetingKey: "user-7" });
    expect(banner).toMatchObject({ reason: "SPLIT" });
    expect(["blue", "red"]).toContain(banner.value);
    expect(banner.variant).toBe(banner.value);
    // Sticky: the same user gets the same side every time.
    for (let i = 0; i < 3; i++)
      expect(await client.getStringValue("banner", "none", { targetingKey: "user-7" })).toBe(banner.value);
    expect(await client.getNumberDetails("max-items", 0, { targetingKey: "u1" })).toMatchObject({
      value: 20.5,
      variant: "twenty",
      reason: "STATIC",
    });
    expect(await client.getObjectDetails("layout", {}, { targetingKey: "u1" })).toMatchObject({
      value: { columns: 3, tags: ["a", null] },
      variant: "grid",
      reason: "STATIC",
    });
    expect(await client.getBooleanDetails("retired", true, { targetingKey: "u1" })).toMatchObject({
      value: false,
      variant: "off",
      reason: "DISABLED",
    });
  });

  it("turns failures into the application's default with OpenFeature's error codes", async () => {
    const missing = await client.getBooleanDetails("no-such-flag", true, { targetingKey: "u1" });
    expect(missing).toMatchObject({ value: true, reason: "ERROR", errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(missing.errorMessage).toContain("no-such-flag");

    const noKey = await client.getStringDetails("banner", "fallback", {});
    expect(noKey).toMatchObject({
      value: "fallback",
      reason: "ERROR",
      errorCode: ErrorCode.TARGETING_KEY_MISSING,
    });
    expect(noKey.errorMessage).toContain("targetingKey");

    const mismatch = await client.getNumberDetails("new-checkout", 7, { targetingKey: "u1" });
    expect(mismatch).toMatchObject({ value: 7, reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH });
  });

  it("answers a revoked or foreign token with 401, which the provider reports as an error", async () => {
    const statuses: number[] = [];
    const stranger = new OFREPProvider({
      baseUrl: g.apiUrl,
      headers: [["Authorization", "Bearer gty_not-a-token"]],
      fetchImplementation: async (input: string | URL | Request, init?: RequestInit) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
    });
    await OpenFeature.setProviderAndWait("stranger", stranger);
    const details = await OpenFeature.getClient("stranger").getBooleanDetails("new-checkout", true, {
      targetingKey: "u1",
      country: "DK",
    });
    // ofrep-provider 0.1.x raises OFREPApiUnauthorizedError (with an empty message) on a 401.
    expect(details).toMatchObject({ value: true, reason: "ERROR", errorCode: ErrorCode.GENERAL });
    expect(statuses).toEqual([401]);
  });

  it("a change is served by the next evaluation", async () => {
    const before = await client.getBooleanValue("new-checkout", false, { targetingKey: "u2", country: "SE" });
    expect(before).toBe(false);
    const changed = await call(g, "PUT", "/api/v1/flags/new-checkout/environments/production", {
      body: { enabled: true, fallthrough: { variant: "on" }, rules: [] },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(await client.getBooleanValue("new-checkout", false, { targetingKey: "u2", country: "SE" })).toBe(
      true,
    );
  });
});

describe("OFREP on the wire", () => {
  const bulk = (token: string | null, body: unknown, headers: Record<string, string> = {}, query = "") =>
    call(g, "POST", `/ofrep/v1/evaluate/flags${query}`, { token, body, headers });

  it("a single evaluation's bodies carry key and errorCode on failure, and never null", async () => {
    const ok = await call(g, "POST", "/ofrep/v1/evaluate/flags/max-items", {
      token: production,
      body: { context: { targetingKey: "u1" } },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("application/json");
    expect(ok.json).toEqual({ key: "max-items", value: 20.5, reason: "STATIC", variant: "twenty" });

    const notFound = await call(g, "POST", "/ofrep/v1/evaluate/flags/nope", { token: production, body: {} });
    expect(notFound.status).toBe(404);
    expect(notFound.json).toEqual({
      key: "nope",
      errorCode: "FLAG_NOT_FOUND",
      errorDetails: expect.any(String),
    });

    const badContext = await call(g, "POST", "/ofrep/v1/evaluate/flags/banner", {
      token: production,
      body: { context: { targetingKey: 42 } },
    });
    expect(badContext.status).toBe(400);
    expect(badContext.json).toMatchObject({ key: "banner", errorCode: "INVALID_CONTEXT" });
    expect(badContext.json.errorDetails).toContain("context.targetingKey must be a string");

    const notJson = await call(g, "POST", "/ofrep/v1/evaluate/flags/banner", {
      token: production,
      rawBody: "{context:",
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ key: "banner", errorCode: "INVALID_CONTEXT" });
    expect(notJson.json.errorDetails).toMatch(/JSON/);

    const noBody = await call(g, "POST", "/ofrep/v1/evaluate/flags/max-items", { token: production });
    expect(noBody.status).toBe(200);

    for (const body of [ok.json, notFound.json, badContext.json, notJson.json])
      expect(nullPaths(body)).toEqual([]);
  });

  it("401 without a valid token and 403 for a token that may not read the environment, with OFREP error bodies", async () => {
    const none = await bulk(null, {});
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ errorCode: "GENERAL" });
    expect(none.json.errorDetails).toContain("Authorization: Bearer");
    const single = await call(g, "POST", "/ofrep/v1/evaluate/flags/banner", { token: "gty_wrong", body: {} });
    expect(single.status).toBe(401);
    expect(single.json).toMatchObject({ key: "banner", errorCode: "GENERAL" });

    const unbound = await createToken(g, "sdk");
    const refused = await bulk(unbound, {});
    expect(refused.status).toBe(403);
    expect(refused.json.errorDetails).toContain("gantry tokens create --role sdk --env ENV");
    const staging = await createToken(g, "sdk", "staging");
    const elsewhere = await bulk(staging, {}, {}, "?env=production");
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json.errorDetails).toContain("reads the flags of staging");
  });

  it("an sdk token's environment decides what is served; a person names one with ?env=", async () => {
    const staging = await createToken(g, "sdk", "staging");
    const context = { context: { targetingKey: "u1", country: "SE" } };
    const inStaging = await bulk(staging, context);
    expect(inStaging.json.flags.find((f: { key: string }) => f.key === "new-checkout")).toMatchObject({
      value: true,
    });
    expect(inStaging.json.flags.find((f: { key: string }) => f.key === "max-items")).toMatchObject({
      reason: "DISABLED",
    });
    const viewer = await createToken(g, "viewer");
    const named = await bulk(viewer, context, {}, "?env=staging");
    expect(named.status).toBe(200);
    expect(named.json.flags).toEqual(inStaging.json.flags);
    const unnamed = await bulk(viewer, context);
    expect(unnamed.status).toBe(400);
    expect(unnamed.json.errorDetails).toContain("?env=");
    const unknown = await bulk(viewer, context, {}, "?env=prod");
    expect(unknown.status).toBe(400);
    expect(unknown.json.errorDetails).toContain("development, staging, production");
  });

  it("bulk: every flag with an ETag; 304 while flags and context stay, 200 once either changes", async () => {
    const context = { context: { targetingKey: "u9", country: "DK" } };
    const first = await bulk(production, context);
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(first.json.flags.map((f: { key: string }) => f.key).sort()).toEqual(
      ["banner", "layout", "max-items", "new-checkout", "retired"].sort(),
    );
    expect(nullPaths(first.json.flags.filter((f: { key: string }) => f.key !== "layout"))).toEqual([]);

    const same = await bulk(production, context, { "if-none-match": etag });
    expect(same.status).toBe(304);
    expect(same.text).toBe("");
    expect(same.headers.get("etag")).toBe(etag);
    // Refetches an SSE message asks for carry its metadata; they are answered the same way.
    const notified = await bulk(production, context, { "if-none-match": etag }, '?flagConfigEtag="7"');
    expect(notified.status).toBe(304);

    const otherContext = await bulk(
      production,
      { context: { targetingKey: "u9", country: "SE" } },
      {
        "if-none-match": etag,
      },
    );
    expect(otherContext.status).toBe(200);
    expect(otherContext.headers.get("etag")).not.toBe(etag);

    await call(g, "PUT", "/api/v1/flags/retired/environments/production", {
      body: { enabled: true, offVariant: "off", fallthrough: { variant: "on" } },
    });
    const changed = await bulk(production, context, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.json.flags.find((f: { key: string }) => f.key === "retired")).toMatchObject({
      value: true,
      reason: "STATIC",
    });

    const noKey = await bulk(production, {});
    expect(noKey.json.flags.find((f: { key: string }) => f.key === "banner")).toEqual({
      key: "banner",
      errorCode: "TARGETING_KEY_MISSING",
      errorDetails: expect.stringContaining("targetingKey"),
    });
    const badContext = await bulk(production, { context: "DK" });
    expect(badContext.status).toBe(400);
    expect(badContext.json).toEqual({ errorCode: "INVALID_CONTEXT", errorDetails: expect.any(String) });
  });

  it("a set that reads the clock is tagged by what it serves, not by its revision", async () => {
    const created = await call(g, "POST", "/api/v1/flags", {
      body: {
        key: "launch",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        environments: {
          production: {
            enabled: true,
            rules: [
              {
                clauses: [
                  {
                    attribute: "$now",
                    operator: "after",
                    values: [new Date(Date.now() + 1500).toISOString()],
                  },
                ],
                variant: "on",
              },
            ],
          },
        },
      },
    });
    expect(created.status, created.text).toBe(201);
    const context = { context: { targetingKey: "u1" } };
    const before = await bulk(production, context);
    expect(before.json.flags.find((f: { key: string }) => f.key === "launch")).toMatchObject({
      value: false,
    });
    await new Promise((r) => setTimeout(r, 1600));
    const after = await bulk(production, context, { "if-none-match": before.headers.get("etag")! });
    expect(after.status).toBe(200);
    expect(after.json.flags.find((f: { key: string }) => f.key === "launch")).toMatchObject({ value: true });
    const again = await bulk(production, context, { "if-none-match": after.headers.get("etag")! });
    expect(again.status).toBe(304);
    await call(g, "DELETE", "/api/v1/flags/launch");
  });

  it("points to a change notification stream: a refetchEvaluation message on connect and after each change", async () => {
    const first = await bulk(production, { context: { targetingKey: "u1" } });
    expect(first.json.eventStreams).toEqual([
      { type: "sse", url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/ofrep\/v1\/events\?/) },
    ]);
    const url: string = first.json.eventStreams[0].url;
    expect(url).not.toContain(production);

    const abort = new AbortController();
    const stream = await fetch(url, { signal: abort.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    const nextEvent = async () => {
      let text = "";
      while (!text.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        text += decoder.decode(value);
      }
      return text;
    };
    const hello = await nextEvent();
    expect(hello).toMatch(
      /^id: (\d+)\nretry: 1000\ndata: \{"type":"refetchEvaluation","etag":"\\"\1\\""\}\n\n$/,
    );
    const changedAt = Date.now();
    await call(g, "PUT", "/api/v1/flags/max-items/environments/production", {
      body: { enabled: true, fallthrough: { variant: "ten" } },
    });
    const change = await nextEvent();
    expect(Date.now() - changedAt).toBeLessThan(1000);
    const id = Number(/^id: (\d+)/.exec(change)![1]);
    expect(id).toBeGreaterThan(Number(/^id: (\d+)/.exec(hello)![1]));
    expect(JSON.parse(change.split("data: ")[1]!)).toEqual({ type: "refetchEvaluation", etag: `"${id}"` });
    abort.abort();

    // Behind a proxy that terminates TLS, the URL is the one the client reached.
    const proxied = await bulk(
      production,
      {},
      { "x-forwarded-proto": "https", "x-forwarded-host": "flags.example.com" },
    );
    expect(proxied.json.eventStreams[0].url).toMatch(/^https:\/\/flags\.example\.com\/ofrep\/v1\/events\?/);

    const tampered = await fetch(url.replace(/credential=[^&]+\./, "credential=x."));
    expect(tampered.status).toBe(401);
    const otherEnv = await fetch(url.replace("env=production", "env=staging"));
    expect(otherEnv.status).toBe(401);
  });

  it("revoking the token revokes it and its event stream URL at once", async () => {
    const created = await call(g, "POST", "/api/v1/tokens", {
      body: { name: "short-lived", role: "sdk", environment: "production" },
    });
    expect(created.status, created.text).toBeLessThan(300);
    const token: string = created.json.token;
    const { json } = await bulk(token, {});
    const url: string = json.eventStreams[0].url;
    const open = await fetch(url);
    expect(open.status).toBe(200);
    await open.body?.cancel();
    const revoked = await call(g, "DELETE", `/api/v1/tokens/${created.json.tokenId}`);
    expect(revoked.status, revoked.text).toBeLessThan(300);
    expect((await fetch(url)).status).toBe(401);
    // The token itself is refused at once too, though it was just used (and remembered).
    expect((await bulk(token, {})).status).toBe(401);
  });

  it("may be called from web pages of any origin (CORS), reading the ETag", async () => {
    const preflight = await fetch(`${g.apiUrl}/ofrep/v1/evaluate/flags`, {
      method: "OPTIONS",
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, if-none-match",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("if-none-match");
    const answered = await bulk(production, {}, { origin: "https://shop.example" });
    expect(answered.headers.get("access-control-allow-origin")).toBe("*");
    expect(answered.headers.get("access-control-expose-headers")).toBe("etag");
    const refused = await bulk(null, {}, { origin: "https://shop.example" });
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
  });
});
