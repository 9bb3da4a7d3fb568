import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * The key that signs pin tickets (X-Gantry-Pin), kept in DATA/pin.key (owner-only) so that
 * tickets outlive a restart; shared with the router through its policy. A file that does
 * not hold a usable key is replaced, which voids the tickets issued with it.
 */
export function ensurePinKey(file: string): Buffer {
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length >= 32) return key;
  }
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600 });
  return key;
}
