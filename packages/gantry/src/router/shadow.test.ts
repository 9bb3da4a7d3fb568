import { describe, expect, it } from "vitest";
import { type Answer, compareAnswers, withoutFields } from "./shadow.ts";

const json = (body: unknown, status = 200): Answer => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: Buffer.from(JSON.stringify(body)),
  ms: 1,
});

describe("comparing a shadow answer with the primary's", () => {
  it("compares JSON as data: key order and whitespace do not matter, values do", () => {
    const a = json({ id: 1, tags: ["x", "y"], meta: { n: 2 } });
    const b: Answer = { ...a, body: Buffer.from('{ "meta": {"n":2}, "tags": ["x","y"], "id": 1 }') };
    expect(compareAnswers(a, b, [])).toBeUndefined();
    expect(compareAnswers(a, json({ id: 1, tags: ["x", "z"], meta: { n: 2 } }), [])).toBe(
      "body differs at $.tags[1]",
    );
    expect(compareAnswers(a, json({ id: 1, tags: ["x", "y"], meta: { n: 3 } }), [])).toBe(
      "body differs at $.meta.n",
    );
  });

  it("leaves ignored fields out, nested and in every element of an array", () => {
    const a = json({
      version: "v1",
      items: [
        { id: 1, at: "t1" },
        { id: 2, at: "t2" },
      ],
      meta: { requestId: "a" },
    });
    const b = json({
      version: "v2",
      items: [
        { id: 1, at: "t9" },
        { id: 2, at: "t8" },
      ],
      meta: { requestId: "b" },
    });
    expect(compareAnswers(a, b, ["version", "items.*.at", "meta.requestId"])).toBeUndefined();
    expect(compareAnswers(a, b, ["version", "meta.requestId"])).toBe("body differs at $.items[0].at");
    expect(withoutFields({ a: 1, b: { c: 2, d: 3 } }, ["b.c"])).toEqual({ a: 1, b: { d: 3 } });
  });

  it("compares status first, then other bodies byte for byte", () => {
    expect(compareAnswers(json({}), json({}, 500), [])).toBe("status 500 instead of 200");
    const text = (s: string): Answer => ({
      status: 200,
      contentType: "text/plain",
      body: Buffer.from(s),
      ms: 1,
    });
    expect(compareAnswers(text("ok"), text("ok"), [])).toBeUndefined();
    expect(compareAnswers(text("ok"), text("OK"), [])).toBe("body differs");
    expect(compareAnswers(json({ a: 1 }), { ...json({}), body: Buffer.from("{oops") }, [])).toBe(
      "body is not valid JSON",
    );
  });
});
