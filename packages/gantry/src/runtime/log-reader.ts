import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { sleep } from "./process-table.ts";

/**
 * Reading an instance log that a shim is writing and rotating (`log` → `log.1`).
 * Following polls instead of using fs.watch, which misses events on some file systems
 * and after renames; polling a stat every few hundred milliseconds costs nothing.
 */

async function readTail(path: string, maxBytes: number): Promise<Buffer> {
  if (maxBytes <= 0) return Buffer.alloc(0);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Drops UTF-8 continuation bytes at the start of a cut, so no half character is shown. */
function startAtCharacter(buffer: Buffer): Buffer {
  let start = 0;
  while (start < buffer.length && start < 4 && ((buffer[start] ?? 0) & 0xc0) === 0x80) start++;
  return buffer.subarray(start);
}

/** The last `tailBytes` of the log, reaching back into the rotated file (if any) when needed. */
export async function tailLog(
  logPath: string,
  rotatedPath: string | null,
  tailBytes: number,
): Promise<string> {
  const current = await readTail(logPath, tailBytes);
  const older =
    rotatedPath === null ? Buffer.alloc(0) : await readTail(rotatedPath, tailBytes - current.length);
  return startAtCharacter(Buffer.concat([older, current])).toString("utf8");
}

interface OpenLog {
  fd: number;
  ino: number;
  offset: number;
  decoder: StringDecoder;
}

function openLog(path: string, fromEnd: boolean): OpenLog | null {
  try {
    const fd = openSync(path, "r");
    const stat = fstatSync(fd);
    return { fd, ino: stat.ino, offset: fromEnd ? stat.size : 0, decoder: new StringDecoder("utf8") };
  } catch {
    return null;
  }
}

/** Reads whatever was appended since the last read; starts over if the file was truncated. */
function drain(log: OpenLog, onChunk: (text: string) => void): void {
  const { size } = fstatSync(log.fd);
  if (size < log.offset) log.offset = 0;
  const buffer = Buffer.alloc(64 * 1024);
  while (log.offset < size) {
    const bytesRead = readSync(log.fd, buffer, 0, Math.min(buffer.length, size - log.offset), log.offset);
    if (bytesRead === 0) break;
    log.offset += bytesRead;
    const text = log.decoder.write(buffer.subarray(0, bytesRead));
    if (text.length > 0) onChunk(text);
  }
}

function currentIno(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/**
 * Calls onChunk with output appended after the call, until the signal aborts. Holding the
 * file open means a rotation loses nothing: the old descriptor now points at `log.1` and
 * is read to its end before switching to the new `log`.
 */
export async function followLog(
  logPath: string,
  onChunk: (text: string) => void,
  signal: AbortSignal,
  pollMs = 200,
): Promise<void> {
  let log = openLog(logPath, true);
  try {
    while (!signal.aborted) {
      if (log === null) {
        log = openLog(logPath, false);
      } else {
        // Look before draining: once the path names a new file the old one is complete.
        const ino = currentIno(logPath);
        drain(log, onChunk);
        if (ino !== null && ino !== log.ino) {
          closeSync(log.fd);
          log = openLog(logPath, false);
          continue;
        }
      }
      await sleep(pollMs);
    }
  } finally {
    if (log !== null) closeSync(log.fd);
  }
}
