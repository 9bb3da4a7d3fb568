import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUCKETS, bucketer, bucketInput, bucketOf } from "./bucket.ts";
import { murmur3 } from "./murmur3.ts";

interface Vector {
  input: string;
  hex: string;
  byteLength: number;
  utf8: string;
  hash: number;
  bucket: number;
}

/** The vectors table of docs/flags-hashing.md, so the document and the code cannot drift apart. */
function documentedVectors(): Vector[] {
  const doc = readFileSync(new URL("../../../../docs/flags-hashing.md", import.meta.url), "utf8");
  const table = doc.slice(doc.indexOf("## 7. Test vectors"));
  return table
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cells = line.split(" | ").map((cell) => cell.replace(/^\|? ?`?|`? ?\|?$/g, ""));
      const [input, byteLength, utf8, hex, hash, bucket] = cells;
      return {
        input: JSON.parse(input!) as string,
        byteLength: Number(byteLength),
        utf8: utf8!,
        hex: hex!,
        hash: Number(hash),
        bucket: Number(bucket),
      };
    });
}

describe("the documented hashing vectors", () => {
  const vectors = documentedVectors();

  it("are at least 20, with non-ASCII ids among them", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(20);
    for (const id of ["Ærøskøbing", "用户-42", "😀"])
      expect(vectors.some((v) => v.input.includes(id))).toBe(true);
  });

  it.each(documentedVectors().map((v) => [v.input, v] as const))(
    "%j hashes and buckets as documented",
    (_, v) => {
      const bytes = new TextEncoder().encode(v.input);
      expect(bytes.length).toBe(v.byteLength);
      if (v.utf8 !== "") expect(Buffer.from(bytes).toString("hex")).toBe(v.utf8);
      expect(murmur3(v.input, 0)).toBe(v.hash);
      expect(`0x${v.hash.toString(16).padStart(8, "0")}`).toBe(v.hex);
      expect(bucketOf(v.input)).toBe(v.bucket);
      expect(v.hash % BUCKETS).toBe(v.bucket);
    },
  );

  it("match the worked example: checkout, no salt, 10/90", () => {
    expect(bucketInput("checkout", "", "user-42")).toBe("checkout..user-42");
    expect(bucketOf("checkout..user-42")).toBe(10992);
    expect(bucketOf("checkout..user-43")).toBe(2277);
    expect(bucketer("checkout", "")("user-42")).toBe(10992);
  });
});
