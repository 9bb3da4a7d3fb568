import type { Socket } from "node:net";
import util from "node:util";

/**
 * A socket read and written without its stream layer, the router's hot path.
 *
 * Reads: each read from the kernel lands in one buffer shared by every socket and goes
 * straight to `onData`, skipping the 64 KiB allocation Node makes for each read, `push`, the
 * stream's buffer and the 'data' event (a sixth of the router's time per request when it read
 * through them). `onData` must be done with the bytes when it returns: the next read, of any
 * socket, overwrites them (llhttp copies what it keeps: partial heads, and body chunks).
 * End of stream and errors still go through the Socket, so 'end', 'error' and 'close' are
 * emitted as usual. This is what `net`'s own `onread` option does, which `net.Server` does
 * not offer for the sockets it accepts. Reading is paused and resumed here, on the handle:
 * the socket's own pause() and resume() act on the Readable stream this bypasses.
 *
 * Writes: handed to the handle directly (as `net` does under its Writable stream) when
 * nothing is queued in the stream; otherwise, and while the socket connects, through
 * `socket.write`, so bytes always leave in order. `write` returns false once more than
 * `highWaterMark` bytes wait for the kernel; `onceDrained` says when they have gone.
 *
 * Like llhttp.ts, this reaches Node internals (the stream handle and the shared stream
 * state, stable since Node 12), and fails loudly at start-up if they ever move.
 */
export class SocketIo {
  readonly socket: Socket;
  readonly #handle: StreamHandle;
  #pendingBytes = 0;
  #waiting = false;
  #onDrain: (() => void) | undefined;

  constructor(socket: Socket, onData: (data: Buffer) => void) {
    const handle = (socket as unknown as { _handle: StreamHandle | null })._handle;
    if (
      !handle ||
      typeof handle.useUserBuffer !== "function" ||
      typeof handle.writeLatin1String !== "function"
    )
      throw new Error(
        "this Node.js does not give sockets a stream handle as the router expects (Node 24 does)",
      );
    this.socket = socket;
    this.#handle = handle;
    const streamOnRead = handle.onread;
    handle.useUserBuffer(readBuffer);
    handle.onread = function (this: StreamHandle, arrayBuffer: ArrayBuffer | undefined) {
      const nread = streamState[kReadBytesOrError]!;
      if (nread > 0) {
        onData(readBuffer.subarray(0, nread));
        return undefined;
      }
      // End of stream or an error: the Socket ends or destroys itself as it always does.
      return streamOnRead.call(this, arrayBuffer);
    };
    // Flowing, with nothing buffered: the stream emits 'end' as soon as the handle reports EOF.
    socket.resume();
    socket.on("drain", () => this.#drained());
  }

  pause(): void {
    const handle = this.#handle;
    if (!handle.reading) return;
    handle.reading = false;
    handle.readStop();
  }

  resume(): void {
    const handle = this.#handle;
    if (handle.reading || this.socket.destroyed) return;
    handle.reading = true;
    handle.readStart();
  }

  /** Strings are written as latin1 (heads and framing, as llhttp decoded them). */
  write(data: string | Buffer): boolean {
    const socket = this.socket;
    if (socket.writableLength > 0 || socket.connecting || socket.destroyed || !socket.writable) {
      const ok = typeof data === "string" ? socket.write(data, "latin1") : socket.write(data);
      if (!ok) this.#waiting = true;
      return ok;
    }
    const req = new WriteWrap();
    req.handle = this.#handle;
    req.oncomplete = onWriteComplete;
    req.io = this;
    req.bytes = 0;
    const err =
      typeof data === "string"
        ? this.#handle.writeLatin1String(req, data)
        : this.#handle.writeBuffer(req, data);
    if (err !== 0) {
      socket.destroy(errnoError(err));
      return false;
    }
    if (!streamState[kLastWriteWasAsync]) return this.#pendingBytes < highWaterMark;
    // Not all of it went: libuv holds the rest (strings copied, buffers kept by the request).
    // Counted whole, as net does: the part already sent is not reported.
    if (typeof data !== "string") req.buffer = data;
    req.bytes = streamState[kBytesWritten]!;
    this.#pendingBytes += req.bytes;
    if (this.#pendingBytes < highWaterMark) return true;
    this.#waiting = true;
    return false;
  }

  /** Whether bytes written earlier still wait for the kernel beyond the high-water mark. */
  get needDrain(): boolean {
    return this.#waiting;
  }

  /** Calls `then` once, when what waits for the kernel is back under the high-water mark. */
  onceDrained(then: () => void): void {
    this.#onDrain = then;
  }

  /** @internal called by a direct write's completion. */
  written(req: WriteRequest, status: number): void {
    this.#pendingBytes -= req.bytes;
    if (status < 0) {
      this.socket.destroy(errnoError(status));
      return;
    }
    if (this.#pendingBytes < highWaterMark) this.#drained();
  }

  #drained(): void {
    if (!this.#waiting || this.#pendingBytes >= highWaterMark || this.socket.writableNeedDrain) return;
    this.#waiting = false;
    const onDrain = this.#onDrain;
    this.#onDrain = undefined;
    onDrain?.();
  }
}

/** Where every socket's reads land, one at a time (libuv reads each socket's bytes, then calls back). */
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/** As net's sockets: a writer is asked to wait once this much is queued. */
const highWaterMark = 16 * 1024;

function onWriteComplete(this: WriteRequest, status: number): void {
  this.io.written(this, status);
}

function errnoError(code: number): Error {
  const error = new Error(`write ${util.getSystemErrorName(code)}`) as NodeJS.ErrnoException;
  error.errno = code;
  error.code = util.getSystemErrorName(code);
  error.syscall = "write";
  return error;
}

interface WriteRequest {
  handle: StreamHandle;
  oncomplete: (this: WriteRequest, status: number) => void;
  io: SocketIo;
  bytes: number;
  buffer?: Buffer;
}

interface StreamHandle {
  onread: (this: StreamHandle, arrayBuffer: ArrayBuffer | undefined) => unknown;
  reading: boolean;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeLatin1String(req: WriteRequest, data: string): number;
  writeBuffer(req: WriteRequest, data: Buffer): number;
}

interface StreamWrapBinding {
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kBytesWritten: number;
  kLastWriteWasAsync: number;
  WriteWrap: new () => WriteRequest;
}

function loadStreamWrap(): StreamWrapBinding {
  const binding = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding(
    "stream_wrap",
  );
  if (
    !(binding.streamBaseState instanceof Int32Array) ||
    typeof binding.kReadBytesOrError !== "number" ||
    typeof binding.kBytesWritten !== "number" ||
    typeof binding.kLastWriteWasAsync !== "number" ||
    typeof binding.WriteWrap !== "function"
  )
    throw new Error("this Node.js does not expose its stream state as the router expects (Node 24 does)");
  return binding as StreamWrapBinding;
}

const {
  streamBaseState: streamState,
  kReadBytesOrError,
  kBytesWritten,
  kLastWriteWasAsync,
  WriteWrap,
} = loadStreamWrap();
