import { expect, it } from "vitest";
import { configureScience, science, scienceSync } from "./default-scientist.ts";
import { ScienceUsageError } from "./errors.ts";
import { RecordingPublisher } from "./recording-publisher.ts";

it("the process-wide science() and scienceSync() publish where configureScience says", async () => {
  const publisher = new RecordingPublisher();
  configureScience({ publisher, defaults: { enabled: true } });
  const asyncValue = await science<string>("global", (e) => {
    e.use(async () => "a");
    e.try(async () => "a");
  });
  const syncValue = scienceSync<string>("global-sync", (e) => {
    e.use(() => "s");
    e.try(() => "t");
  });
  expect([asyncValue, syncValue]).toEqual(["a", "s"]);
  expect(publisher.results.map((r) => [r.name, r.mismatched])).toEqual([
    ["global", []],
    ["global-sync", ["candidate"]],
  ]);
  configureScience({ defaults: { enabled: false } });
  await science("global", (e) => {
    e.use(() => 1);
    e.try(() => 2);
  });
  expect(publisher.results).toHaveLength(2);
});

it("science() rejects, rather than throws, when the experiment is written wrong", async () => {
  const run = science("no-control", (e) => {
    e.try(() => 1);
  });
  await expect(run).rejects.toBeInstanceOf(ScienceUsageError);
});

it("refuses defaults it cannot use, naming the field", () => {
  expect(() => configureScience({ defaults: { timeoutMs: -1 } })).toThrow(/timeout/);
  expect(() => configureScience({ defaults: { order: "random" as "parallel" } })).toThrow(/order/);
});
