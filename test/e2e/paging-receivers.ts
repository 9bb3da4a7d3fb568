import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import { SMTPServer } from "smtp-server";
import { freePort } from "./harness.ts";

export interface Delivery {
  at: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Whether the HMAC signature matched the shared secret. */
  signed: boolean;
  status: number;
}

/** A webhook receiver that checks Gantry's HMAC signature; it can be told to fail. */
export async function webhookReceiver(secret: string) {
  const deliveries: Delivery[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const expected = `sha256=${createHmac("sha256", secret).update(`${headers["x-gantry-timestamp"]}.${text}`).digest("hex")}`;
      deliveries.push({
        at: Date.now(),
        headers,
        body: JSON.parse(text),
        signed: headers["x-gantry-signature"] === expected,
        status,
      });
      res.writeHead(status).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    /** Deliveries that were answered 2xx. */
    accepted: () => deliveries.filter((d) => d.status < 300),
    setStatus(s: number) {
      status = s;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface Mail {
  at: number;
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  raw: string;
}

/** A real SMTP server (the smtp-server package) that keeps every message it accepts. */
export async function smtpReceiver() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (c) => (raw += c));
      stream.on("end", () => {
        const header = (name: string) => raw.match(new RegExp(`^${name}: (.*)$`, "mi"))?.[1]?.trim() ?? "";
        mails.push({
          at: Date.now(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: header("Subject"),
          messageId: header("Message-ID"),
          raw,
        });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}
