import { describe, expect, it } from "vitest";
import { randomKeys } from "./fixtures.ts";
import { murmur3, murmur3Bytes, murmur3Prefix, murmur3Prefixed } from "./murmur3.ts";

// Published MurmurHash3_x86_32 values: SMHasher-derived vectors collected by Ian Boyd
// (Stack Overflow 14747343), "hello" (seed 0), and Python mmh3's documented
// mmh3.hash("foo") = -156908512 and mmh3.hash("foo", 42) = -1322301282 as unsigned.
const STRING_VECTORS: [string, number, number][] = [
  ["", 0, 0x00000000],
  ["", 1, 0x514e28b7],
  ["", 0xffffffff, 0x81f16f39],
  ["\0\0\0\0", 0, 0x2362f9de],
  ["aaaa", 0x9747b28c, 0x5a97808a],
  ["aaa", 0x9747b28c, 0x283e0130],
  ["aa", 0x9747b28c, 0x5d211726],
  ["a", 0x9747b28c, 0x7fa09ea6],
  ["abcd", 0x9747b28c, 0xf0478627],
  ["abc", 0x9747b28c, 0xc84a62dd],
  ["ab", 0x9747b28c, 0x74875592],
  ["Hello, world!", 0x9747b28c, 0x24884cba],
  ["ππππππππ", 0x9747b28c, 0xd58063c1],
  ["The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2fa826cd],
  ["hello", 0, 0x248bfa47],
  ["foo", 0, 2 ** 32 - 156908512],
  ["foo", 42, 2 ** 32 - 1322301282],
];

const BYTE_VECTORS: [number[], number, number][] = [
  [[0xff, 0xff, 0xff, 0xff], 0, 0x76293b50],
  [[0x21, 0x43, 0x65, 0x87], 0, 0xf55b516b],
  [[0x21, 0x43, 0x65, 0x87], 0x5082edee, 0x2362f9de],
  [[0x21, 0x43, 0x65], 0, 0x7e4a8634],
  [[0x21, 0x43], 0, 0xa0f7b07a],
  [[0x21], 0, 0x72661cf4],
  [[0, 0, 0, 0], 0, 0x2362f9de],
  [[0, 0, 0], 0, 0x85f0b427],
  [[0, 0], 0, 0x30f4c306],
  [[0], 0, 0x514e28b7],
];

describe("murmur3", () => {
  it.each(STRING_VECTORS)(
    "hashes the UTF-8 of %j with seed %i to the published value",
    (text, seed, hash) => {
      expect(murmur3(text, seed)).toBe(hash);
    },
  );

  it.each(BYTE_VECTORS)("hashes bytes %j with seed %i to the published value", (bytes, seed, hash) => {
    expect(murmur3Bytes(Uint8Array.from(bytes), seed)).toBe(hash);
  });

  it("hashes any string exactly as its TextEncoder bytes, lone surrogates included", () => {
    const pieces = [
      "a",
      "Æ",
      "ø",
      "用户",
      "😀",
      "👩‍💻",
      "\u0301",
      "\ud800",
      "\udfff",
      "\u07ff",
      "\uffff",
      "-",
    ];
    const encoder = new TextEncoder();
    randomKeys(3000, 7).forEach((key, i) => {
      const text = key + pieces[i % pieces.length]!.repeat(1 + (i % 5)) + key.slice(0, i % 7);
      expect(murmur3(text, i)).toBe(murmur3Bytes(encoder.encode(text), i));
    });
  });

  it("hashes a prehashed prefix plus a value as the joined string", () => {
    for (const prefix of ["", "a", "ab.", "abc.", "checkout..", "ærø.用户."]) {
      const start = murmur3Prefix(prefix);
      for (const value of ["", "x", "user-42", "Ærøskøbing", "用户-42", "🚀🌍", ...randomKeys(50, 3)]) {
        expect(murmur3Prefixed(start, value)).toBe(murmur3(prefix + value));
      }
    }
  });

  it("grows its scratch space for long non-ASCII input", () => {
    const long = "Ærøskøbing-用户-😀".repeat(500);
    expect(murmur3(long)).toBe(murmur3Bytes(new TextEncoder().encode(long)));
  });
});
