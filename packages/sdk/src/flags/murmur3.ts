/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby's `MurmurHash3_x86_32`), over the UTF-8
 * bytes of a string, as an unsigned 32-bit integer. ASCII is hashed straight from the
 * string; other text is encoded into a reused buffer, a lone surrogate as U+FFFD exactly
 * as `TextEncoder` does. Hashing allocates nothing.
 */
export function murmur3(text: string, seed = 0): number {
  // Fast path for ASCII, where UTF-16 code units are the UTF-8 bytes: hash them directly.
  const length = text.length;
  const blocks = length & ~3;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    if ((a | b | c | d) > 0x7f) return murmur3Encoded(text, seed);
    h = mixBlock(h, a | (b << 8) | (c << 16) | (d << 24));
  }
  let k = 0;
  for (let i = blocks; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return murmur3Encoded(text, seed);
    k |= code << ((i & 3) << 3);
  }
  if (length > blocks) h ^= scramble(k);
  return fmix(h ^ length);
}

function murmur3Encoded(text: string, seed: number): number {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3 * 2);
  return hashBytes(scratch, encodeUtf8(text, scratch, 0), seed);
}

/** A fixed start of the hashed bytes, hashed once: see `murmur3Prefixed`. */
export interface Murmur3Prefix {
  readonly bytes: Uint8Array;
  readonly seed: number;
  /** The state after the prefix's whole 4-byte blocks, and its 0–3 leftover bytes packed. */
  readonly h: number;
  readonly k: number;
}

export function murmur3Prefix(prefix: string, seed = 0): Murmur3Prefix {
  const bytes = new TextEncoder().encode(prefix);
  const blocks = bytes.length & ~3;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  let k = 0;
  for (let i = blocks; i < bytes.length; i++) k |= bytes[i]! << ((i & 3) << 3);
  return { bytes, seed, h, k };
}

/**
 * `murmur3(prefix + text)` without building the joined string (a rope that is slow to read)
 * and without rehashing the prefix; evaluation hashes on every split.
 */
export function murmur3Prefixed(prefix: Murmur3Prefix, text: string): number {
  let h = prefix.h;
  let k = prefix.k;
  let n = prefix.bytes.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return murmur3Spliced(prefix, text);
    k |= code << ((n & 3) << 3);
    n++;
    if ((n & 3) === 0) {
      h = mixBlock(h, k);
      k = 0;
    }
  }
  if ((n & 3) !== 0) h ^= scramble(k);
  return fmix(h ^ n);
}

function murmur3Spliced(prefix: Murmur3Prefix, text: string): number {
  const needed = prefix.bytes.length + text.length * 3;
  if (scratch.length < needed) scratch = new Uint8Array(needed * 2);
  scratch.set(prefix.bytes, 0);
  return hashBytes(scratch, encodeUtf8(text, scratch, prefix.bytes.length), prefix.seed);
}

/** The same hash over raw bytes: the reference the string versions are checked against. */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  return hashBytes(bytes, bytes.length, seed);
}

/** Where non-ASCII text is encoded to UTF-8 for hashing; reused so hashing does not allocate. */
let scratch = new Uint8Array(1024);

/** Writes the UTF-8 of `text` into `out` from `start`; returns where it ends. */
function encodeUtf8(text: string, out: Uint8Array, start: number): number {
  let n = start;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = text.charCodeAt(i + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function hashBytes(bytes: Uint8Array, length: number, seed: number): number {
  let h = seed >>> 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h = mixBlock(h, k);
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = bytes[blocks]!;
    if (tail > 1) k |= bytes[blocks + 1]! << 8;
    if (tail > 2) k |= bytes[blocks + 2]! << 16;
    h ^= scramble(k);
  }
  return fmix(h ^ length);
}

function mixBlock(h: number, k: number): number {
  h ^= scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
