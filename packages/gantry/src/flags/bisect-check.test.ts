import { describe, expect, it } from "vitest";
import { isGantryError } from "../errors/index.ts";
import { describeCheck, judgeHttp, judgeSli, parseCheck } from "./bisect-check.ts";

function refusal(text: string): { message: string; field: string | undefined } {
  try {
    parseCheck(text);
  } catch (error) {
    if (isGantryError(error)) return { message: error.message, field: error.field };
    throw error;
  }
  throw new Error(`accepted ${text}`);
}

describe("bisect checks", () => {
  it("parses an http probe with method, headers and expected status, with defaults", () => {
    expect(parseCheck("http:http://127.0.0.1:8080/checkout")).toEqual({
      kind: "http",
      method: "GET",
      url: "http://127.0.0.1:8080/checkout",
      headers: {},
      expect: { op: "<", status: 500 },
      samples: 20,
      timeoutMs: 5000,
    });
    const post = parseCheck("http:POST https://shop.example/cart header:Host=web.localhost status=201", {
      samples: 3,
      timeoutMs: 100,
    });
    expect(post).toMatchObject({
      method: "POST",
      headers: { host: "web.localhost" },
      expect: { op: "=", status: 201 },
      samples: 3,
      timeoutMs: 100,
    });
    expect(describeCheck(post)).toBe(
      "http:POST https://shop.example/cart header:host=web.localhost status=201",
    );
  });

  it("parses SLI conditions over the router's counts", () => {
    const check = parseCheck("sli:web error-rate<1%, p99<=300ms,p50<1.5s", { windowMs: 5000 });
    expect(check).toMatchObject({
      kind: "sli",
      service: "web",
      windowMs: 5000,
      minRequests: 20,
      conditions: [
        { metric: "error-rate", op: "<", value: 0.01 },
        { metric: "p99", op: "<=", value: 300 },
        { metric: "p50", op: "<", value: 1500 },
      ],
    });
    expect(describeCheck(check)).toBe("sli:web error-rate<1%,p99<=300ms,p50<1.5s");
  });

  it("refuses a bad check naming what is wrong and the syntax", () => {
    for (const [text, part] of [
      ["curl http://x", "neither http:... nor sli:..."],
      ["http:", "no URL"],
      ["http:GET not-a-url", '"not-a-url" is not a URL'],
      ["http:ftp://host/x", "must be http:// or https://"],
      ["http:http://h/ status<5xx", '"status<5xx" in the http check'],
      ["sli:web", "needs a service and conditions"],
      ["sli:web errors<1%", '"errors<1%" is not an SLI condition'],
    ] as const) {
      const { message, field } = refusal(text);
      expect(message, text).toContain(part);
      expect(message, text).toContain('write "http:GET');
      expect(field).toBe("check");
    }
    expect(() => parseCheck("http:http://h/", { samples: 0 })).toThrow(/samples must be from 1/);
  });

  it("an http check passes only when every answer is as expected", () => {
    const check = parseCheck("http:http://h/ status<500");
    if (check.kind !== "http") throw new Error("fixture");
    expect(judgeHttp(check, [200, 404, 302])).toEqual({ passed: true, detail: "3/3 answered status<500" });
    expect(judgeHttp(check, [200, 500, 503, 500, "no answer (ECONNREFUSED)"])).toEqual({
      passed: false,
      detail: "4/5 not status<500: 500 ×2, 503 ×1, no answer (ECONNREFUSED) ×1",
    });
  });

  it("an SLI check judges error rate and latency quantiles, and says nothing without enough traffic", () => {
    const check = parseCheck("sli:web error-rate<1%,p99<300ms", { minRequests: 100 });
    if (check.kind !== "sli") throw new Error("fixture");
    const latency = { bounds: [100, 250, 500], counts: [950, 45, 5, 0] };
    expect(judgeSli(check, { requests: 1000, errors: 5, latency })).toEqual({
      passed: true,
      detail: "error rate 0.50% (5/1000) meets error-rate<1%; p99 233 ms meets p99<300ms",
    });
    const failing = judgeSli(check, {
      requests: 1000,
      errors: 30,
      latency: { bounds: [100, 250, 500], counts: [900, 50, 50, 0] },
    });
    expect(failing?.passed).toBe(false);
    expect(failing?.detail).toContain("error rate 3.00% (30/1000) breaks error-rate<1%");
    expect(failing?.detail).toContain("breaks p99<300ms");
    expect(judgeSli(check, { requests: 99, errors: 0, latency })).toBeUndefined();
  });
});
