import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import type { Incident } from "../../incidents/index.ts";
import { createNotifier, DeliveryError, type PageMessage, webhookSignature } from "../index.ts";

const incident: Incident = {
  id: 7,
  title: "SLO checkout-availability burning 20x",
  service: "checkout",
  severity: "high",
  status: "triggered",
  dedupKey: "slo/checkout-availability",
  source: "slo",
  createdAt: "2026-06-01T12:00:00.000Z",
  acknowledgedAt: null,
  acknowledgedBy: null,
  mitigatedAt: null,
  mitigatedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  postmortem: null,
  postmortemAt: null,
  postmortemDue: true,
  closed: false,
};

const page: PageMessage = {
  pageId: 42,
  kind: "trigger",
  incident,
  person: "ana",
  level: 1,
  round: 0,
  via: { schedule: "primary", layer: "weekly" },
  link: "http://127.0.0.1:7070/api/v1/incidents/7",
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A local HTTP endpoint standing in for Slack and PagerDuty (unreachable from here): records what it is sent. */
async function endpoint(status = 202) {
  const requests: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ headers: req.headers, body });
      res
        .writeHead(status, { "content-type": "application/json" })
        .end(status < 300 ? '{"status":"success"}' : '{"message":"Event object is invalid"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

const deps = { now: () => new Date("2026-06-01T12:00:05Z"), timeoutMs: 2000 };
const signal = () => new AbortController().signal;

describe("notifiers", () => {
  it("signs webhook bodies with HMAC-SHA256 over timestamp and body, the delivery id stable", async () => {
    const e = await endpoint(200);
    const n = createNotifier({ type: "webhook", url: e.url, secret: "s3cret" }, deps);
    await n.send(page, {}, signal());
    const [r] = e.requests;
    expect(r!.headers["x-gantry-delivery"]).toBe("42");
    expect(r!.headers["x-gantry-timestamp"]).toBe(String(Date.parse("2026-06-01T12:00:05Z") / 1000));
    const expected = createHmac("sha256", "s3cret")
      .update(`${r!.headers["x-gantry-timestamp"]}.${r!.body}`)
      .digest("hex");
    expect(r!.headers["x-gantry-signature"]).toBe(`sha256=${expected}`);
    // A replayed body with another timestamp does not verify.
    expect(webhookSignature("s3cret", "1780315206", r!.body)).not.toBe(r!.headers["x-gantry-signature"]);
    expect(webhookSignature("s3cret", "1780315205", r!.body)).toBe(r!.headers["x-gantry-signature"]);
    expect(JSON.parse(r!.body)).toMatchObject({
      event: "incident.page",
      person: "ana",
      incident: { id: 7, severity: "high" },
    });
  });

  it("sends PagerDuty Events API v2 trigger, acknowledge and resolve with one dedup key", async () => {
    const e = await endpoint(202);
    const n = createNotifier({ type: "pagerduty", routingKey: "R0UT1NGKEY", url: e.url }, deps);
    await n.send(page, {}, signal());
    await n.send(
      {
        ...page,
        kind: "acknowledge",
        incident: { ...incident, status: "acknowledged", acknowledgedBy: "ana" },
      },
      {},
      signal(),
    );
    await n.send(
      { ...page, kind: "resolve", incident: { ...incident, status: "resolved", resolvedBy: "slo" } },
      {},
      signal(),
    );
    const bodies = e.requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => [b.event_action, b.dedup_key, b.routing_key])).toEqual([
      ["trigger", "gantry-incident-7", "R0UT1NGKEY"],
      ["acknowledge", "gantry-incident-7", "R0UT1NGKEY"],
      ["resolve", "gantry-incident-7", "R0UT1NGKEY"],
    ]);
    expect(bodies[0].payload).toMatchObject({
      source: "checkout",
      severity: "error",
      component: "checkout",
      timestamp: incident.createdAt,
    });
    expect(bodies[0].payload.summary.length).toBeLessThanOrEqual(1024);
    expect(bodies[1].payload).toBeUndefined();
  });

  it("refuses to retry what the receiver rejected as invalid, and retries what failed for now", async () => {
    const bad = await endpoint(400);
    const n = createNotifier({ type: "pagerduty", routingKey: "x", url: bad.url }, deps);
    const rejected = await n.send(page, {}, signal()).catch((e) => e);
    expect(rejected).toBeInstanceOf(DeliveryError);
    expect(rejected).toMatchObject({ permanent: true });
    expect(rejected.message).toContain('answered 400: {"message":"Event object is invalid"}');
    const busy = await endpoint(429);
    const again = await createNotifier({ type: "slack", url: busy.url }, deps)
      .send(page, {}, signal())
      .catch((e) => e);
    expect(again).toMatchObject({ permanent: false });
    const down = await createNotifier({ type: "slack", url: "http://127.0.0.1:9/" }, deps)
      .send(page, {}, signal())
      .catch((e) => e);
    expect(down).toMatchObject({ permanent: false });
  });

  it("posts Slack's incoming-webhook format, mentioning the person", async () => {
    const e = await endpoint(200);
    await createNotifier({ type: "slack", url: e.url }, deps).send(page, { mention: "U024BE7LH" }, signal());
    const body = JSON.parse(e.requests[0]!.body);
    expect(body.text).toMatch(
      /^<@U024BE7LH> \[HIGH\] Incident 7 on checkout: SLO checkout-availability burning 20x — paging ana/,
    );
    expect(body.blocks[0]).toEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: "<@U024BE7LH> *Incident 7* (high): SLO checkout-availability burning 20x",
      },
    });
  });

  it("emails through a real SMTP server, with a Message-ID from the page id", async () => {
    const received: { to: string[]; raw: string }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData(stream, session, cb) {
        let raw = "";
        stream.on("data", (c) => (raw += c));
        stream.on("end", () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const port = (server.server.address() as AddressInfo).port;
    const n = createNotifier(
      { type: "smtp", host: "127.0.0.1", port, secure: false, from: "gantry@example.com" },
      deps,
    );
    await n.send(page, { to: "ana@example.com" }, signal());
    n.close?.();
    expect(received[0]!.to).toEqual(["ana@example.com"]);
    expect(received[0]!.raw).toMatch(/^Message-ID: <gantry-page-42@127\.0\.0\.1>/m);
    // Long headers are folded onto continuation lines.
    expect(received[0]!.raw.replace(/\r?\n[ \t]+/g, " ")).toMatch(
      /^Subject: \[HIGH\] Incident 7 on checkout: SLO checkout-availability burning 20x/m,
    );
  });
});
