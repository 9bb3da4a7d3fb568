import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
import { ClientProviderEvents, ErrorCode, OpenFeature, ProviderStatus } from "@openfeature/web-sdk";
import { EventSource } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGantry, up, waitUntil } from "./harness.ts";
import { createOfrepFlags, ofrepConfig } from "./ofrep-fixtures.ts";
import { call, createToken } from "./ofrep-support.ts";

// The web provider runs in browsers; in Node it needs the browser's EventSource, which
// undici implements to the WHATWG spec. The provider itself is used as published.
(globalThis as { EventSource?: unknown }).EventSource = EventSource;

let g: RunningGantry;
let production: string;
/** Every request the provider made, with its answer. */
const exchanges: { url: string; ifNoneMatch: string | null; status: number }[] = [];
const recordingFetch = async (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  const response = await fetch(request);
  exchanges.push({
    url: request.url,
    ifNoneMatch: request.headers.get("if-none-match"),
    status: response.status,
  });
  return response;
};

beforeAll(async () => {
  g = await up({ config: ofrepConfig });
  await createOfrepFlags(g);
  production = await createToken(g, "sdk", "production");
});
afterAll(async () => {
  await OpenFeature.close();
  await g.interrupt();
});

describe("OFREP with the real @openfeature/ofrep-web-provider and web SDK (in Node)", () => {
  it("bulk-evaluates once for the context, then serves every type from its cache with Gantry's reasons", async () => {
    await OpenFeature.setContext({ targetingKey: "shopper-1", country: "DK" });
    await OpenFeature.setProviderAndWait(
      new OFREPWebProvider({
        baseUrl: g.apiUrl,
        headers: [["Authorization", `Bearer ${production}`]],
        cacheMode: "disabled",
        fetchImplementation: recordingFetch,
      }),
    );
    const client = OpenFeature.getClient();
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(client.getBooleanDetails("new-checkout", false)).toMatchObject({
      value: true,
      variant: "on",
      reason: "TARGETING_MATCH",
    });
    expect(client.getStringDetails("banner", "none")).toMatchObject({ reason: "SPLIT" });
    expect(client.getNumberDetails("max-items", 0)).toMatchObject({ value: 20.5, reason: "STATIC" });
    expect(client.getObjectDetails("layout", {})).toMatchObject({ value: { columns: 3, tags: ["a", null] } });
    expect(client.getBooleanDetails("retired", true)).toMatchObject({ value: false, reason: "DISABLED" });
    expect(client.getBooleanDetails("no-such-flag", true)).toMatchObject({
      value: true,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    expect(client.getNumberDetails("new-checkout", 3)).toMatchObject({
      value: 3,
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
    const bulks = exchanges.filter((e) => e.url.includes("/ofrep/v1/evaluate/flags"));
    expect(bulks[0]).toMatchObject({ ifNoneMatch: null, status: 200 });
  });

  it("follows the event stream: the hello message costs a 304, and a change reaches the provider within a second", async () => {
    const client = OpenFeature.getClient();
    // On connect the stream announces the current revision; the provider revalidates with its ETag.
    await waitUntil(() => exchanges.some((e) => e.status === 304), 3000, "the provider's revalidation");
    const revalidation = exchanges.find((e) => e.status === 304)!;
    expect(revalidation.ifNoneMatch).toMatch(/^"[^"]+"$/);
    expect(revalidation.url).toContain("flagConfigEtag=");

    const changed = new Promise<{ flagsChanged?: string[]; at: number }>((resolve) =>
      client.addHandler(ClientProviderEvents.ConfigurationChanged, (details) =>
        resolve({ flagsChanged: details?.flagsChanged, at: Date.now() }),
      ),
    );
    const changedAt = Date.now();
    const put = await call(g, "PUT", "/api/v1/flags/new-checkout/environments/production", {
      body: { enabled: false, offVariant: "off" },
    });
    expect(put.status, put.text).toBe(200);
    const event = await changed;
    expect(event.at - changedAt).toBeLessThan(1000);
    expect(event.flagsChanged).toEqual(["new-checkout"]);
    expect(client.getBooleanDetails("new-checkout", true)).toMatchObject({
      value: false,
      reason: "DISABLED",
    });
    expect(exchanges.at(-1)).toMatchObject({ status: 200 });
  });

  it("re-evaluates when the context changes: the ETag of the old context is no match", async () => {
    const client = OpenFeature.getClient();
    await call(g, "PUT", "/api/v1/flags/new-checkout/environments/production", {
      body: {
        enabled: true,
        rules: [{ clauses: [{ attribute: "country", operator: "in", values: ["SE"] }], variant: "on" }],
        fallthrough: { variant: "off" },
      },
    });
    await waitUntil(
      () => client.getBooleanDetails("new-checkout", true).reason === "DEFAULT",
      2000,
      "the provider to take the rule for SE",
    );
    const before = exchanges.length;
    // Same targeting key: the provider keeps its ETag and sends it with the new context.
    await OpenFeature.setContext({ targetingKey: "shopper-1", country: "SE" });
    const refetch = exchanges.slice(before).find((e) => e.url.includes("/ofrep/v1/evaluate/flags"))!;
    expect(refetch.ifNoneMatch).not.toBeNull();
    expect(refetch.status).toBe(200);
    expect(client.getBooleanDetails("new-checkout", false)).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
  });

  it("a token without an environment is a fatal provider error (403)", async () => {
    const unbound = await createToken(g, "sdk");
    const provider = new OFREPWebProvider({
      baseUrl: g.apiUrl,
      headers: [["Authorization", `Bearer ${unbound}`]],
      cacheMode: "disabled",
    });
    await expect(OpenFeature.setProviderAndWait("unbound", provider)).rejects.toThrow();
    expect(OpenFeature.getClient("unbound").providerStatus).toBe(ProviderStatus.FATAL);
  });
});
