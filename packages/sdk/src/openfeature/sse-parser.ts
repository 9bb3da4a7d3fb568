/** One server-sent event as the HTML standard's parser dispatches it. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
  /** The last event id seen on the stream (it persists across events, as the standard says). */
  readonly id: string;
}

export interface SseParserHooks {
  onEvent(event: ServerSentEvent): void;
  /** A `retry:` field with a valid number of milliseconds. */
  onRetry?(ms: number): void;
}

/**
 * An incremental `text/event-stream` parser (https://html.spec.whatwg.org/#event-stream-interpretation):
 * feed it decoded text in chunks of any size. Lines end in CRLF, LF or CR; comments and
 * unknown fields are ignored; an event with no data is not dispatched. A line longer than
 * `maxLineLength` makes `feed` return false, so a broken peer cannot grow memory without bound.
 */
export class SseParser {
  readonly #hooks: SseParserHooks;
  readonly #maxLineLength: number;
  #buffer = "";
  #skipLeadingLf = false;
  #event = "";
  #data: string[] = [];
  #lastEventId = "";

  constructor(hooks: SseParserHooks, maxLineLength = 64 * 1024 * 1024) {
    this.#hooks = hooks;
    this.#maxLineLength = maxLineLength;
  }

  /** Takes the next chunk; false when a line went past the limit (drop the stream). */
  feed(chunk: string): boolean {
    if (chunk.length === 0) return true;
    if (!this.#skipLeadingLf && chunk.indexOf("\n") === -1 && chunk.indexOf("\r") === -1) {
      // The middle of a long line (a big flag set): append without rescanning what came before.
      this.#buffer += chunk;
      return this.#buffer.length <= this.#maxLineLength;
    }
    let text = this.#buffer + chunk;
    this.#buffer = "";
    let start = 0;
    if (this.#skipLeadingLf && text.startsWith("\n")) start = 1;
    this.#skipLeadingLf = false;
    for (;;) {
      const cr = text.indexOf("\r", start);
      const lf = text.indexOf("\n", start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) break;
      this.#line(text.slice(start, end));
      if (text[end] === "\r") {
        if (end + 1 === text.length) {
          // A CR at the end of a chunk may be the first half of a CRLF.
          this.#skipLeadingLf = true;
          start = end + 1;
          break;
        }
        start = text[end + 1] === "\n" ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
    text = text.slice(start);
    if (text.length > this.#maxLineLength) return false;
    this.#buffer = text;
    return true;
  }

  #line(line: string): void {
    if (line === "") {
      this.#dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#event = value;
        break;
      case "data":
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.#lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#hooks.onRetry?.(Number(value));
        break;
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = "";
    if (data.length === 0) return;
    this.#hooks.onEvent({ event: event || "message", data: data.join("\n"), id: this.#lastEventId });
  }
}
