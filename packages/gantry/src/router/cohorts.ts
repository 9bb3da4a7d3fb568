import { createHmac, timingSafeEqual } from "node:crypto";
import { bucketInput, bucketOf } from "@gantry/sdk";

/**
 * A phased rollout's routing: which users see the candidate. Requests of users in a group
 * (matched by header, cookie or user key) go to the candidate, then `percent` of the other
 * users by a sticky hash of their key; everything else stays on stable. A user keeps their
 * version across requests, and across phases as groups and percent only grow.
 */
export interface RouteCohorts {
  stable: string;
  candidate: string;
  /** Where a user's key is read: the header if present, else the cookie. */
  userKey: { header?: string; cookie?: string };
  groups: CohortGroup[];
  /** Share of users with a key, outside the groups, who get the candidate: 0–100. */
  percent: number;
  /** Hashed with the key, so each rollout draws its own users (docs/flags-hashing.md, with the service as key). */
  salt: string;
}

export interface CohortGroup {
  name: string;
  /** Header name (lower case) → values that make a request a member. */
  headers: Record<string, string[]>;
  /** Cookie name → values that make a request a member. */
  cookies: Record<string, string[]>;
  /** User keys that are members. */
  users: string[];
}

/** The request's headers as llhttp gives them: [name, value, name, value, …]. */
export type HeaderList = readonly string[];

/** A header's value (names compared case-insensitively, `name` given lower case); the first if repeated. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i]!.length === name.length && headers[i]!.toLowerCase() === name) return headers[i + 1];
  return undefined;
}

/** A cookie's value from the Cookie header(s), or undefined. */
export function cookieValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== "cookie") continue;
    for (const part of headers[i + 1]!.split(";")) {
      const eq = part.indexOf("=");
      if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** The user's key for sticky routing, or undefined when the request carries none. */
export function userKeyOf(c: RouteCohorts, headers: HeaderList): string | undefined {
  const fromHeader = c.userKey.header ? headerValue(headers, c.userKey.header) : undefined;
  if (fromHeader) return fromHeader;
  const fromCookie = c.userKey.cookie ? cookieValue(headers, c.userKey.cookie) : undefined;
  return fromCookie || undefined;
}

/** The bucket in [0, 100000) of a user key: the flags' sticky hash, with the service as the flag key. */
export function cohortBucket(service: string, salt: string, key: string): number {
  return bucketOf(bucketInput(service, salt, key));
}

/** The version a request goes to under a phased rollout's cohorts. */
export function cohortVersion(service: string, c: RouteCohorts, headers: HeaderList): string {
  const key = userKeyOf(c, headers);
  for (const group of c.groups) if (isMember(group, headers, key)) return c.candidate;
  if (key === undefined || c.percent <= 0) return c.stable;
  return cohortBucket(service, c.salt, key) < c.percent * 1000 ? c.candidate : c.stable;
}

function isMember(group: CohortGroup, headers: HeaderList, key: string | undefined): boolean {
  if (key !== undefined && group.users.includes(key)) return true;
  for (const name in group.headers) {
    const value = headerValue(headers, name);
    if (value !== undefined && group.headers[name]!.includes(value)) return true;
  }
  for (const name in group.cookies) {
    const value = cookieValue(headers, name);
    if (value !== undefined && group.cookies[name]!.includes(value)) return true;
  }
  return false;
}

/**
 * Pin tickets: `X-Gantry-Pin: VERSION.EXPIRES.SIGNATURE` sends a request to one version of a
 * service, whatever the weights or cohorts say — for testing a candidate before users see
 * it. The control plane issues tickets to tokens that may deploy (`gantry pin`), signed with
 * a key the router shares; the router checks them without asking anyone.
 */
function pinSignature(key: Buffer, service: string, version: string, expires: number): string {
  return createHmac("sha256", key).update(`${service}\n${version}\n${expires}`).digest("base64url");
}

/** A ticket valid until `expires` (Unix seconds, rounded down). */
export function signPin(key: Buffer, service: string, version: string, expires: number): string {
  const at = Math.floor(expires);
  return `${version}.${at}.${pinSignature(key, service, version, at)}`;
}

/** The version a ticket pins, or undefined when it is malformed, forged, for another service, or expired. */
export function verifyPin(key: Buffer, service: string, ticket: string, nowMs: number): string | undefined {
  const last = ticket.lastIndexOf(".");
  const middle = ticket.lastIndexOf(".", last - 1);
  if (middle <= 0) return undefined;
  const version = ticket.slice(0, middle);
  const expiresText = ticket.slice(middle + 1, last);
  if (!/^\d{1,12}$/.test(expiresText)) return undefined;
  const expires = Number(expiresText);
  if (expires * 1000 <= nowMs) return undefined;
  const given = Buffer.from(ticket.slice(last + 1));
  const wanted = Buffer.from(pinSignature(key, service, version, expires));
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? version : undefined;
}
