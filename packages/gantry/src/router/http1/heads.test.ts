import { describe, expect, it } from "vitest";
import { clientResponseHead, localResponse, readRequestHead, upstreamRequestHead } from "./heads.ts";

const get = (headers: string[], over: { method?: string; versionMinor?: number } = {}) =>
  readRequestHead(over.method ?? "GET", "/a?b=1", over.versionMinor ?? 1, headers, true);

describe("message heads through the proxy", () => {
  it("forwards end-to-end headers, keeps Host, and sets X-Forwarded-* so a client cannot forge them", () => {
    const req = get([
      "Host",
      "web.localhost:8080",
      "Connection",
      "keep-alive, X-Secret",
      "X-Secret",
      "hop",
      "Keep-Alive",
      "timeout=5",
      "X-Forwarded-For",
      "10.0.0.1",
      "X-Forwarded-Proto",
      "https",
      "Accept",
      "text/html",
    ]);
    const head = upstreamRequestHead(req, "127.0.0.9", { "x-gantry-mode": "read-only" });
    expect(head).toBe(
      "GET /a?b=1 HTTP/1.1\r\nHost: web.localhost:8080\r\nAccept: text/html\r\n" +
        "x-forwarded-for: 10.0.0.1, 127.0.0.9\r\nx-forwarded-proto: http\r\n" +
        "x-forwarded-host: web.localhost:8080\r\nx-gantry-mode: read-only\r\n\r\n",
    );
  });

  it("frames a request body the way the client did", () => {
    const fixed = get(["Content-Length", "11"], { method: "POST" });
    expect(fixed.hasBody).toBe(true);
    expect(upstreamRequestHead(fixed, "c")).toContain("content-length: 11\r\n");
    const chunked = get(["Transfer-Encoding", "chunked", "Expect", "100-continue"], { method: "POST" });
    expect(chunked.expectContinue).toBe(true);
    const head = upstreamRequestHead(chunked, "c");
    expect(head).toContain("transfer-encoding: chunked\r\n");
    expect(head).not.toMatch(/expect/i);
    expect(get(["Content-Length", "0"]).hasBody).toBe(false);
  });

  it("keeps the instance's Content-Length, else chunks for HTTP/1.1 and closes for HTTP/1.0", () => {
    const req = { method: "GET", versionMinor: 1, keepAlive: true };
    const sized = clientResponseHead(200, "OK", ["Content-Length", "5", "Connection", "close"], req);
    expect(sized).toEqual({
      head: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
      framing: "length",
      keepAlive: true,
    });
    expect(clientResponseHead(200, "OK", ["Transfer-Encoding", "chunked"], req).framing).toBe("chunked");
    const old = clientResponseHead(200, "OK", [], { ...req, versionMinor: 0 });
    expect(old).toMatchObject({ framing: "close", keepAlive: false });
    expect(old.head).toContain("connection: close");
  });

  it("drops the instance's hop-by-hop, Connection-listed and X-Forwarded-* headers in any case, passing the rest as spelled", () => {
    const req = { method: "GET", versionMinor: 1, keepAlive: true };
    const out = clientResponseHead(
      200,
      "OK",
      [
        ...["Server", "nginx", "CONNECTION", "X-Private, keep-alive", "x-private", "secret"],
        ...["Keep-Alive", "timeout=5", "X-FORWARDED-HOST", "evil", "x-forwarded-prefix", "/p"],
        ...["Upgrade", "h2c", "X-Frame-Options", "DENY", "Content-LENGTH", "2", "Set-Cookie", "a=1"],
      ],
      req,
    );
    expect(out.head).toBe(
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Frame-Options: DENY\r\nSet-Cookie: a=1\r\ncontent-length: 2\r\n\r\n",
    );
    const pinned = get(["HOST", "a", "X-Gantry-PIN", "t", "TE", "trailers", "X-Request-Id", "7"]);
    expect(pinned.pin).toBe("t");
    expect(upstreamRequestHead(pinned, "c")).toBe(
      "GET /a?b=1 HTTP/1.1\r\nHOST: a\r\nX-Request-Id: 7\r\nx-forwarded-for: c\r\nx-forwarded-proto: http\r\nx-forwarded-host: a\r\n\r\n",
    );
  });

  it("sends no body for HEAD, 204 and 304, and no Content-Length for 204", () => {
    const req = { method: "GET", versionMinor: 1, keepAlive: true };
    expect(clientResponseHead(200, "OK", ["Content-Length", "9"], { ...req, method: "HEAD" })).toMatchObject({
      framing: "none",
      head: "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n",
    });
    expect(clientResponseHead(204, "No Content", ["Content-Length", "0"], req).head).toBe(
      "HTTP/1.1 204 No Content\r\n\r\n",
    );
    expect(clientResponseHead(304, "", [], req).framing).toBe("none");
  });

  it("measures a local answer's body in UTF-8 bytes", () => {
    const out = localResponse(503, { "retry-after": "5" }, "désolé", {
      method: "GET",
      versionMinor: 1,
      keepAlive: false,
    });
    expect(out.toString("utf8")).toBe(
      "HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\ncontent-length: 8\r\nconnection: close\r\n\r\ndésolé",
    );
  });
});
