import {
  type Clause,
  type CompiledFlagSet,
  compileFlagSet,
  evaluate,
  type FlagSet,
  type FlagSetInput,
} from "@gantry/sdk";
import { describe, expect, it } from "vitest";
import {
  bulkEtag,
  bulkJson,
  etagMatches,
  eventStreamsMember,
  ofrepErrorBody,
  ofrepEvaluationJson,
  ofrepStatus,
  parseEvaluationRequest,
  readsClock,
  refetchEvent,
  toOfrepEvaluation,
} from "./ofrep.ts";

const HALF = [
  { variant: "on", weight: 50 },
  { variant: "off", weight: 50 },
];

function set(): CompiledFlagSet {
  const input: FlagSetInput = {
    flags: {
      banner: {
        type: "string",
        variants: { blue: "blue", red: "red" },
        defaultVariant: "blue",
        environments: {
          production: {
            enabled: true,
            rules: [
              { clauses: [{ attribute: "country", operator: "equals", values: ["DK"] }], variant: "red" },
            ],
          },
        },
      },
      rollout: {
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        environments: { production: { enabled: true, fallthrough: { split: HALF } } },
      },
      byOrg: {
        type: "number",
        variants: { one: 1, two: 2 },
        defaultVariant: "one",
        environments: {
          production: {
            enabled: true,
            fallthrough: {
              split: [
                { variant: "one", weight: 50 },
                { variant: "two", weight: 50 },
              ],
              bucketBy: "orgId",
            },
          },
        },
      },
      off: {
        type: "object",
        variants: { a: { rows: [1, null] }, b: { rows: [] } },
        defaultVariant: "a",
        environments: { production: { enabled: false, offVariant: "b" } },
      },
      stagingOnly: {
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        environments: { staging: { enabled: true } },
      },
    },
  };
  const compilation = compileFlagSet(input);
  if (!compilation.ok) throw new Error(JSON.stringify(compilation.errors));
  return compilation.flagSet;
}

const flags = set();
const run = (key: string, context = {}) => evaluate(flags, key, "production", context);

/** The top-level members of a body that are null or undefined. */
function topLevelNulls(value: object): string[] {
  return Object.entries(value)
    .filter(([, v]) => v === null || v === undefined)
    .map(([k]) => k);
}

describe("OFREP evaluation bodies", () => {
  it("a served value carries key, value, reason and variant, and nothing null", () => {
    const body = toOfrepEvaluation("banner", run("banner", { country: "DK" }));
    expect(body).toEqual({ key: "banner", value: "red", reason: "TARGETING_MATCH", variant: "red" });
    expect(topLevelNulls(body)).toEqual([]);
  });

  it("each reason of the evaluator passes through as OpenFeature's reason", () => {
    expect(toOfrepEvaluation("banner", run("banner"))).toMatchObject({ reason: "DEFAULT", value: "blue" });
    expect(toOfrepEvaluation("rollout", run("rollout", { targetingKey: "u1" }))).toMatchObject({
      reason: "SPLIT",
    });
    expect(toOfrepEvaluation("off", run("off"))).toEqual({
      key: "off",
      value: { rows: [] },
      reason: "DISABLED",
      variant: "b",
    });
  });

  it("an object value keeps the application's own nulls inside it", () => {
    const flagSet = compileFlagSet({
      flags: {
        o: {
          type: "object",
          variants: { a: { rows: [1, null] } },
          defaultVariant: "a",
          environments: { production: { enabled: true } },
        },
      },
    });
    if (!flagSet.ok) throw new Error("fixture");
    const body = toOfrepEvaluation("o", evaluate(flagSet.flagSet, "o", "production", {}));
    expect(body).toMatchObject({ value: { rows: [1, null] }, reason: "STATIC" });
  });

  it("a failure carries key, errorCode and errorDetails, and no value, variant or reason", () => {
    const body = toOfrepEvaluation("rollout", run("rollout"));
    expect(body).toEqual({
      key: "rollout",
      errorCode: "TARGETING_KEY_MISSING",
      errorDetails: expect.stringContaining("targetingKey"),
    });
    expect(Object.keys(body).sort()).toEqual(["errorCode", "errorDetails", "key"]);
  });

  it("an unknown flag, and a flag not defined in the environment, are FLAG_NOT_FOUND with 404", () => {
    for (const key of ["nope", "stagingOnly"]) {
      const result = run(key);
      expect(toOfrepEvaluation(key, result)).toMatchObject({ key, errorCode: "FLAG_NOT_FOUND" });
      expect(ofrepStatus(result)).toBe(404);
    }
  });

  it("a failure that is not FLAG_NOT_FOUND answers 400; a value answers 200", () => {
    expect(ofrepStatus(run("rollout"))).toBe(400);
    expect(ofrepStatus(run("byOrg"))).toBe(400);
    expect(toOfrepEvaluation("byOrg", run("byOrg"))).toMatchObject({ errorCode: "GENERAL" });
    expect(ofrepStatus(run("banner"))).toBe(200);
  });

  it("a type mismatch from the evaluator keeps its code", () => {
    const result = evaluate(flags, "banner", "production", {}, { type: "boolean" });
    expect(toOfrepEvaluation("banner", result)).toMatchObject({ errorCode: "TYPE_MISMATCH" });
    expect(ofrepStatus(result)).toBe(400);
  });

  it("the memoised JSON of a shared result is the JSON of its body, for the right key", () => {
    const result = run("banner", { country: "DK" });
    const first = ofrepEvaluationJson("banner", result);
    expect(ofrepEvaluationJson("banner", result)).toBe(first);
    expect(JSON.parse(first)).toEqual(toOfrepEvaluation("banner", result));
    expect(JSON.parse(ofrepEvaluationJson("other", result))).toMatchObject({ key: "other" });
  });

  it("a bulk body lists the evaluations and its extra members", () => {
    const body = bulkJson(
      [ofrepEvaluationJson("banner", run("banner")), ofrepEvaluationJson("rollout", run("rollout"))],
      `,"eventStreams":[{"type":"sse","url":"http://x/e"}]`,
    );
    expect(JSON.parse(body)).toEqual({
      flags: [
        { key: "banner", value: "blue", reason: "DEFAULT", variant: "blue" },
        { key: "rollout", errorCode: "TARGETING_KEY_MISSING", errorDetails: expect.any(String) },
      ],
      eventStreams: [{ type: "sse", url: "http://x/e" }],
    });
    expect(JSON.parse(bulkJson([]))).toEqual({ flags: [] });
  });

  it("an SSE notification is a refetchEvaluation message with an id, and no event name", () => {
    expect(refetchEvent("12", '"12"')).toBe(
      `id: 12\ndata: {"type":"refetchEvaluation","etag":"\\"12\\""}\n\n`,
    );
    expect(refetchEvent("12", '"abc"', { lastModifiedSec: 1_700_000_000, retryMs: 1000 })).toBe(
      `id: 12\nretry: 1000\ndata: {"type":"refetchEvaluation","etag":"\\"abc\\"","lastModified":1700000000}\n\n`,
    );
  });

  it("event streams are a bulk member only when there are some", () => {
    expect(eventStreamsMember([])).toBe("");
    const member = eventStreamsMember([{ type: "sse", url: "http://h/ofrep/v1/events?x=1" }]);
    expect(JSON.parse(bulkJson([], member))).toEqual({
      flags: [],
      eventStreams: [{ type: "sse", url: "http://h/ofrep/v1/events?x=1" }],
    });
  });

  it("an error body has errorCode and errorDetails, and the key on the single-flag endpoint", () => {
    expect(ofrepErrorBody("banner", "GENERAL", "no")).toEqual({
      key: "banner",
      errorCode: "GENERAL",
      errorDetails: "no",
    });
    expect(ofrepErrorBody(undefined, "INVALID_CONTEXT", "bad")).toEqual({
      errorCode: "INVALID_CONTEXT",
      errorDetails: "bad",
    });
  });
});

describe("flag sets that read the clock", () => {
  const base = (clauses: Clause[], segmentRules: Clause[][] = []): FlagSetInput => ({
    flags: {
      f: {
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        environments: { production: { enabled: true, rules: [{ clauses, variant: "on" }] } },
      },
    },
    segments: { s: { rules: segmentRules } },
  });
  const compiled = (input: FlagSetInput) => {
    const c = compileFlagSet(input);
    if (!c.ok) throw new Error(JSON.stringify(c.errors));
    return input as FlagSet;
  };

  it("a $now clause in a rule or a segment makes a set read the clock; other attributes do not", () => {
    const plain: Clause[] = [{ attribute: "country", operator: "equals", values: ["DK"] }];
    const clock: Clause[] = [{ attribute: "$now", operator: "after", values: ["2030-01-01T00:00:00Z"] }];
    expect(readsClock(compiled(base(plain)))).toBe(false);
    expect(readsClock(compiled(base(clock)))).toBe(true);
    expect(readsClock(compiled(base(plain, [clock])))).toBe(true);
  });
});

describe("OFREP requests", () => {
  it("a missing body or context is the empty context", () => {
    for (const body of [undefined, null, {}, { context: null }]) {
      expect(parseEvaluationRequest(body)).toEqual({ ok: true, context: {}, contextJson: "{}" });
    }
  });

  it("a context object is taken as is", () => {
    const parsed = parseEvaluationRequest({ context: { targetingKey: "u1", country: "DK" } });
    expect(parsed).toEqual({
      ok: true,
      context: { targetingKey: "u1", country: "DK" },
      contextJson: '{"targetingKey":"u1","country":"DK"}',
    });
  });

  it("a body or context that is not an object, or a targetingKey that is not a string, is INVALID_CONTEXT naming the field", () => {
    expect(parseEvaluationRequest([1])).toMatchObject({ ok: false, errorCode: "INVALID_CONTEXT" });
    expect(parseEvaluationRequest("x")).toMatchObject({ ok: false, errorCode: "INVALID_CONTEXT" });
    const context = parseEvaluationRequest({ context: [1, 2] });
    expect(context).toMatchObject({ ok: false, errorDetails: expect.stringContaining("context must be") });
    const key = parseEvaluationRequest({ context: { targetingKey: 42 } });
    expect(key).toMatchObject({ ok: false, errorDetails: expect.stringContaining("context.targetingKey") });
  });
});

describe("bulk ETags", () => {
  it("the same environment, state and context give the same quoted tag; any change gives another", () => {
    const tag = bulkEtag("production", "7", '{"targetingKey":"u1"}');
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(bulkEtag("production", "7", '{"targetingKey":"u1"}')).toBe(tag);
    expect(bulkEtag("production", "8", '{"targetingKey":"u1"}')).not.toBe(tag);
    expect(bulkEtag("staging", "7", '{"targetingKey":"u1"}')).not.toBe(tag);
    expect(bulkEtag("production", "7", '{"targetingKey":"u2"}')).not.toBe(tag);
  });

  it("If-None-Match matches a tag in a list, weak or strong, or *", () => {
    const tag = '"abc"';
    expect(etagMatches(undefined, tag)).toBe(false);
    expect(etagMatches("", tag)).toBe(false);
    expect(etagMatches('"abc"', tag)).toBe(true);
    expect(etagMatches('W/"abc"', tag)).toBe(true);
    expect(etagMatches('"x", "abc"', tag)).toBe(true);
    expect(etagMatches("*", tag)).toBe(true);
    expect(etagMatches('"abcd"', tag)).toBe(false);
  });
});
