import { closeSync, fstatSync, openSync, renameSync, writeSync } from "node:fs";

/**
 * An append-only log file that never grows past `maxBytes`: when a write would cross
 * the limit the file becomes `<path>.1` (replacing the previous rotation) and a fresh
 * file starts. Disk use per instance is therefore bounded by 2 × maxBytes.
 *
 * Writes are synchronous on purpose: the shim has nothing else to do, and it keeps
 * stdout and stderr lines in the order they arrived.
 */
export class RotatingLog {
  readonly #path: string;
  readonly #maxBytes: number;
  #fd: number;
  #size: number;

  constructor(path: string, maxBytes: number) {
    this.#path = path;
    this.#maxBytes = Math.max(1, maxBytes);
    this.#fd = openSync(path, "a", 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  write(chunk: Buffer | string): void {
    let data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    // A single chunk larger than the limit keeps only its tail: the newest output matters most.
    if (data.length > this.#maxBytes) data = data.subarray(data.length - this.#maxBytes);
    if (this.#size + data.length > this.#maxBytes) this.#rotate();
    writeSync(this.#fd, data);
    this.#size += data.length;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #rotate(): void {
    closeSync(this.#fd);
    renameSync(this.#path, `${this.#path}.1`);
    this.#fd = openSync(this.#path, "a", 0o600);
    this.#size = 0;
  }
}
