import { createHash } from "node:crypto";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { type Cleanups, onePolicy, sleep, startRouter, startUpstream } from "../router-harness.ts";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An upstream that echoes the request body and describes the request in headers. */
async function echo() {
  return startUpstream(cleanups, (req, res) => {
    res.setHeader("x-method", req.method ?? "");
    res.setHeader("x-te", req.headers["transfer-encoding"] ?? "-");
    res.setHeader("x-len", req.headers["content-length"] ?? "-");
    res.setHeader("x-raw", req.rawHeaders.join("|").replace(/[^\x20-\x7e]/g, "?"));
    req.pipe(res);
  });
}

/** Sends raw bytes on one connection and collects everything until the router closes it or `ms` pass. */
function raw(port: number, data: string, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (d) => (text += d));
    socket.on("error", () => undefined);
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(data, "latin1");
  });
}

describe("the router's HTTP/1.1 proxying", () => {
  it("streams a Content-Length body and a chunked body to the instance, framed as sent", async () => {
    const up = await echo();
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, up.port));
    const fixed = await request(r.url, { method: "POST", body: "hello world" });
    expect(fixed.headers["x-len"]).toBe("11");
    expect(await fixed.body.text()).toBe("hello world");
    const big = Buffer.alloc(3 * 1024 * 1024, "x");
    const chunked = await request(r.url, { method: "PUT", body: Readable.from([big, big]) });
    expect(chunked.headers["x-te"]).toBe("chunked");
    const back = Buffer.from(await chunked.body.arrayBuffer());
    expect(back.length).toBe(2 * big.length);
    expect(createHash("sha1").update(back).digest("hex")).toBe(
      createHash("sha1")
        .update(Buffer.concat([big, big]))
        .digest("hex"),
    );
  });

  it("passes header bytes through unchanged and answers HEAD without a body", async () => {
    const up = await echo();
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, up.port));
    const answer = await raw(
      r.port,
      "HEAD / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\nConnection: close\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(answer).toContain("X-Name|caf?|");
    expect(answer.endsWith("\r\n\r\n")).toBe(true);
  });

  it("answers pipelined requests in order on one connection", async () => {
    const up = await startUpstream(cleanups, (req, res) => {
      // The first answer is the slowest: order must come from the router, not from timing.
      setTimeout(() => res.end(req.url), req.url === "/1" ? 200 : 0);
    });
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, up.port));
    const get = (n: number, close = false) =>
      `GET /${n} HTTP/1.1\r\nHost: x\r\n${close ? "Connection: close\r\n" : ""}\r\n`;
    const answer = await raw(r.port, get(1) + get(2) + get(3, true), 3000);
    const bodies = answer
      .split(/HTTP\/1.1 200 OK/)
      .slice(1)
      .map((part) => part.split("\r\n\r\n")[1]);
    expect(bodies).toEqual(["/1", "/2", "/3"]);
  });

  it("refuses a request whose headers exceed 16 KiB with 431, and a malformed one with 400", async () => {
    const r = await startRouter(cleanups);
    const huge = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    expect(await raw(r.port, huge)).toMatch(/^HTTP\/1.1 431 /);
    const smuggle =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    expect(await raw(r.port, smuggle)).toMatch(/^HTTP\/1.1 400 /);
  });

  it("leaves no connection open to a removed instance once its last request is done", async () => {
    const old = await startUpstream(cleanups, (_req, res) => setTimeout(() => res.end("old"), 300));
    const next = await startUpstream(cleanups, (_req, res) => res.end("next"));
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, old.port));
    await Promise.all(Array.from({ length: 5 }, () => request(r.url).then((a) => a.body.text())));
    expect(old.openSockets()).toBeGreaterThan(0);
    const slow = request(r.url).then((a) => a.body.text());
    await sleep(100);
    await r.admin.putPolicy(onePolicy(2, next.port));
    expect(await slow).toBe("old");
    for (let i = 0; i < 20 && old.openSockets() > 0; i++) await sleep(50);
    expect(old.openSockets()).toBe(0);
    expect(await r.admin.inflight()).toEqual({});
  });

  it("answers 504 when an instance does not answer within the upstream timeout", async () => {
    const stuck = await startUpstream(cleanups, () => undefined);
    const r = await startRouter(cleanups, ["--upstream-timeout-ms", "600"]);
    await r.admin.putPolicy(onePolicy(1, stuck.port));
    const started = Date.now();
    const answer = await request(r.url);
    expect(answer.statusCode).toBe(504);
    await answer.body.text();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("finishes requests in flight on SIGTERM and exits 0", async () => {
    const slow = await startUpstream(cleanups, (_req, res) => setTimeout(() => res.end("done"), 500));
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, slow.port));
    const inFlight = request(r.url).then(async (a) => [a.statusCode, await a.body.text()]);
    await sleep(150);
    const exited = new Promise((resolve) => r.child.once("exit", (code) => resolve(code)));
    r.child.kill("SIGTERM");
    expect(await inFlight).toEqual([200, "done"]);
    expect(await exited).toBe(0);
  });

  it("holds a fast instance back while a slow client reads a large response, and delivers it intact", async () => {
    const piece = Buffer.alloc(64 * 1024);
    for (let i = 0; i < piece.length; i++) piece[i] = (i * 7) % 251;
    const pieces = 1024; // 64 MiB: far more than every kernel buffer on the way can hold
    let written = 0;
    const up = await startUpstream(cleanups, (_req, res) => {
      res.writeHead(200, { "content-length": String(pieces * piece.length) });
      const more = () => {
        while (written < pieces * piece.length) {
          written += piece.length;
          if (!res.write(piece)) return void res.once("drain", more);
        }
        res.end();
      };
      more();
    });
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, up.port));
    const socket = connect(r.port, "127.0.0.1");
    const hash = createHash("sha1");
    let head = Buffer.alloc(0);
    let received = 0;
    socket.on("data", (d: Buffer) => {
      if (!head.includes("\r\n\r\n")) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        d = head.subarray(end + 4);
        head = head.subarray(0, end + 4);
      }
      received += d.length;
      hash.update(d);
    });
    socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    socket.pause();
    await sleep(1500);
    // What is not read yet waits in socket buffers and the instance, not in the router's memory.
    expect(written).toBeLessThan(40 * 1024 * 1024);
    socket.resume();
    await new Promise((resolve) => socket.on("close", resolve));
    expect(head.toString("latin1")).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(head.toString("latin1")).toContain(`content-length: ${pieces * piece.length}\r\n`);
    const expected = createHash("sha1");
    for (let i = 0; i < pieces; i++) expected.update(piece);
    expect(received).toBe(pieces * piece.length);
    expect(hash.digest("hex")).toBe(expected.digest("hex"));
  });

  it("holds a fast client back while a slow instance reads a large upload, and delivers it intact", async () => {
    const piece = Buffer.alloc(64 * 1024);
    for (let i = 0; i < piece.length; i++) piece[i] = (i * 13) % 253;
    const pieces = 1024;
    const hash = createHash("sha1");
    let read = 0;
    let reading = false;
    const up = await startUpstream(cleanups, (req, res) => {
      req.pause();
      req.on("data", (d: Buffer) => {
        read += d.length;
        hash.update(d);
      });
      req.on("end", () => res.end(String(read)));
      setTimeout(() => {
        reading = true;
        req.resume();
      }, 1500);
    });
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, up.port));
    const socket = connect(r.port, "127.0.0.1");
    let sent = 0;
    let sentBeforeReading = 0;
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (answer += d));
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${pieces * piece.length}\r\n\r\n`);
    const more = () => {
      while (sent < pieces * piece.length) {
        sent += piece.length;
        if (!reading) sentBeforeReading = sent;
        if (!socket.write(piece)) return void socket.once("drain", more);
      }
    };
    more();
    while (!answer.includes("\r\n\r\n") || !answer.endsWith(String(pieces * piece.length))) await sleep(50);
    socket.destroy();
    expect(sentBeforeReading).toBeLessThan(40 * 1024 * 1024);
    const expected = createHash("sha1");
    for (let i = 0; i < pieces; i++) expected.update(piece);
    expect(read).toBe(pieces * piece.length);
    expect(hash.digest("hex")).toBe(expected.digest("hex"));
  });

  it("stops the upstream request when the client goes away, and counts it out of /inflight", async () => {
    let upstreamClosed = false;
    const slow = await startUpstream(cleanups, (_req, res) => {
      res.on("close", () => (upstreamClosed = true));
      setTimeout(() => res.end("late"), 5000);
    });
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, slow.port));
    await raw(r.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 300);
    for (let i = 0; i < 20 && !upstreamClosed; i++) await sleep(50);
    expect(upstreamClosed).toBe(true);
    expect(await r.admin.inflight()).toEqual({});
  });

  it("cuts the client's response short when the instance dies mid-body, so the client can tell", async () => {
    const dying = await startUpstream(cleanups, (_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => res.socket?.destroy(), 100);
    });
    const r = await startRouter(cleanups);
    await r.admin.putPolicy(onePolicy(1, dying.port));
    const answer = await request(r.url);
    expect(answer.statusCode).toBe(200);
    await expect(answer.body.text()).rejects.toThrow();
  });
});
