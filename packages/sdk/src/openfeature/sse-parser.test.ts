import { describe, expect, it } from "vitest";
import { type ServerSentEvent, SseParser } from "./sse-parser.ts";

function parse(chunks: string[], maxLineLength?: number) {
  const events: ServerSentEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser(
    { onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) },
    maxLineLength,
  );
  const accepted = chunks.map((c) => parser.feed(c));
  return { events, retries, accepted };
}

describe("server-sent events parser", () => {
  it("reads Gantry's flags events: event name, id, retry, one data line", () => {
    const { events, retries } = parse([
      'event: flags\nid: 7\nretry: 1000\ndata: {"revision":7}\n\n: keepalive\n\nevent: flags\nid: 8\ndata: {"revision":8}\n\n',
    ]);
    expect(events).toEqual([
      { event: "flags", id: "7", data: '{"revision":7}' },
      { event: "flags", id: "8", data: '{"revision":8}' },
    ]);
    expect(retries).toEqual([1000]);
  });

  it("gives the same events whichever way the bytes are split, CRLF and CR line ends included", () => {
    const text = "event: flags\r\nid: 1\r\ndata: a\r\ndata: b\r\n\r\nevent: x\rdata: c\r\rdata:d\n\n";
    const whole = parse([text]).events;
    expect(whole).toEqual([
      { event: "flags", id: "1", data: "a\nb" },
      { event: "x", id: "1", data: "c" },
      { event: "message", id: "1", data: "d" },
    ]);
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(parse(chunks).events).toEqual(whole);
    }
  });

  it("ignores comments, unknown fields, events without data and a retry that is not a number", () => {
    const { events, retries } = parse([": hi\nfoo: bar\nevent: flags\n\nretry: soon\ndata\n\n"]);
    expect(events).toEqual([{ event: "message", id: "", data: "" }]);
    expect(retries).toEqual([]);
  });

  it("refuses a line longer than the limit instead of buffering it", () => {
    const { accepted } = parse(["data: 12345", "67890"], 12);
    expect(accepted).toEqual([true, false]);
  });
});
