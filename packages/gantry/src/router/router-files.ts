import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emptyPolicy, type RouterPolicy } from "./policy.ts";
import { routerPolicySchema } from "./policy-schema.ts";

/** The files a router keeps under DATA/router/, shared with the control plane. */
export interface RouterFiles {
  dir: string;
  /** The last accepted policy, served again after a restart. */
  policy: string;
  /** Bearer token of the admin API (0600), read by the control plane. */
  token: string;
  /** {port, pid} of the admin API, written once the router listens: the readiness signal. */
  info: string;
  pid: string;
  log: string;
}

export function routerFiles(dataDir: string): RouterFiles {
  const dir = join(dataDir, "router");
  return {
    dir,
    policy: join(dir, "policy.json"),
    token: join(dir, "admin.token"),
    info: join(dir, "admin.json"),
    pid: join(dir, "router.pid"),
    log: join(dir, "router.log"),
  };
}

/** Reads the admin token, creating it (crypto-random, owner-only) when there is none. */
export function ensureAdminToken(files: RouterFiles): string {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.token)) {
    try {
      writeFileSync(files.token, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
      // Another process (the control plane) created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  chmodSync(files.token, 0o600);
  return readFileSync(files.token, "utf8").trim();
}

/** The persisted policy, or none when it is missing or invalid (the control plane pushes one). */
export function loadPolicy(files: RouterFiles): { policy: RouterPolicy; problem?: string } {
  if (!existsSync(files.policy)) return { policy: emptyPolicy };
  try {
    const parsed = routerPolicySchema.safeParse(JSON.parse(readFileSync(files.policy, "utf8")));
    if (parsed.success) return { policy: parsed.data };
    return { policy: emptyPolicy, problem: parsed.error.message };
  } catch (error) {
    return { policy: emptyPolicy, problem: (error as Error).message };
  }
}

/** Writes a file so that a reader sees the old or the new content, never a part. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

export function readAdminInfo(files: RouterFiles): { port: number; pid: number } | undefined {
  try {
    const info = JSON.parse(readFileSync(files.info, "utf8")) as { port?: unknown; pid?: unknown };
    return typeof info.port === "number" && typeof info.pid === "number"
      ? { port: info.port, pid: info.pid }
      : undefined;
  } catch {
    return undefined;
  }
}
