import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { counterQuery, instantVector, prometheusValue } from "./index.ts";

const never = new AbortController().signal;

describe("counter queries", () => {
  it("reads a series selector or sum() of one, as the selector", () => {
    expect(counterQuery('sum(http_requests_total{job="api",code!~"5.."})')).toEqual({
      selector: 'http_requests_total{job="api",code!~"5.."}',
    });
    expect(counterQuery("  http_requests_total ")).toEqual({ selector: "http_requests_total" });
    expect(counterQuery("sum ( x { a = 'b}', c =~ `d\"` , } )")).toEqual({ selector: "x{a='b}',c=~`d\"`}" });
    expect(counterQuery('{__name__="x_total",job=~"a|b"}')).toEqual({
      selector: '{__name__="x_total",job=~"a|b"}',
    });
    expect(counterQuery('x{a="q\\"uote"}')).toEqual({ selector: 'x{a="q\\"uote"}' });
  });

  it("refuses rates, ranges and other expressions, saying Gantry takes the increase itself", () => {
    const error = (q: string) => {
      const r = counterQuery(q);
      return "error" in r ? r.error : "";
    };
    expect(error('sum(rate(http_requests_total{job="api"}[5m]))')).toMatch(
      /^rate\(\) is not needed: Gantry takes the increase of the counter over each interval itself; give a counter/,
    );
    expect(error("x[5m]")).toMatch(/^a range \[5m\] is not needed/);
    expect(error("sum by (code) (x)")).toContain("sum by/without and other functions are not read");
    expect(error("sum(x) / sum(y)")).toContain('") / sum(y" after the selector is not read');
    expect(error('x{job="api"')).toContain('"," or "}" was expected after job="api"');
    expect(error('x{="api"}')).toContain("a label name was expected");
    expect(error("x{job=api}")).toContain("label job needs a quoted value");
    expect(error("")).toContain("the query is empty");
  });
});

describe("Prometheus client", () => {
  it("reads one number from an answer, and says why another answer is not one", () => {
    const vector = (values: string[]) => ({
      status: "success",
      data: { resultType: "vector", result: values.map((v) => ({ metric: {}, value: [1, v] })) },
    });
    expect(prometheusValue(vector(["0.25"]))).toBe(0.25);
    expect(prometheusValue({ status: "success", data: { resultType: "scalar", result: [1, "3"] } })).toBe(3);
    expect(() => prometheusValue(vector([]))).toThrow("no sample");
    expect(() => prometheusValue(vector(["1", "2"]))).toThrow("aggregate it to one");
    expect(() => prometheusValue(vector(["NaN"]))).toThrow("not a number");
    expect(() => prometheusValue({ status: "error", error: "parse error at char 3" })).toThrow(
      "parse error at char 3",
    );
  });

  it("says when Prometheus cannot be reached, answers an error, or is not Prometheus", async () => {
    const server = createServer((req, res) => {
      if (req.url?.includes("bad")) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end('{"status":"error","errorType":"bad_data","error":"parse error at char 4"}');
      } else {
        res.writeHead(502);
        res.end("<html>bad gateway</html>");
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    try {
      await expect(instantVector(url, "bad{", { signal: never })).rejects.toThrow(
        "Prometheus answered bad_data: parse error at char 4",
      );
      await expect(instantVector(url, "x", { signal: never })).rejects.toThrow(
        `Prometheus at ${url} answered HTTP 502 without a JSON body`,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const down = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((r) => closed.close(r));
    await expect(instantVector(down, "x", { signal: never })).rejects.toThrow(
      `cannot reach Prometheus at ${down}: connect ECONNREFUSED`,
    );
  });
});
