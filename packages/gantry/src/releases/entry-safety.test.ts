import { describe, expect, it } from "vitest";
import { type ArtifactEntry, findUnsafeEntry } from "./entry-safety.ts";

const file = (path: string): ArtifactEntry => ({ path, type: "File" });
const dir = (path: string): ArtifactEntry => ({ path, type: "Directory" });
const link = (path: string, linkpath: string): ArtifactEntry => ({ path, type: "SymbolicLink", linkpath });
const hardLink = (path: string, linkpath: string): ArtifactEntry => ({ path, type: "Link", linkpath });

describe("which artifact listings are safe", () => {
  it("accepts files, directories, the root entry and links that stay inside", () => {
    expect(
      findUnsafeEntry([
        dir("./"),
        dir("./lib/"),
        file("./lib/a.js"),
        link("./a.js", "lib/a.js"),
        link("./lib/self", "../lib"),
        link("./dangling", "not/there"),
        hardLink("./b.js", "lib/a.js"),
      ]),
    ).toBeUndefined();
  });

  it.each([
    ["an absolute path", [file("/etc/cron.d/x")], "absolute path"],
    ["a '..' component", [file("a/../../x")], "'..'"],
    ["a link to an absolute path", [link("p", "/etc/passwd")], "absolute path /etc/passwd"],
    ["a link climbing out", [dir("a"), link("a/up", "../../x")], "outside the release"],
    ["a hard link to outside", [hardLink("h", "../x")], "outside the release"],
    ["a hard link to an absolute path", [hardLink("h", "/etc/shadow")], "absolute path"],
    ["a device", [{ path: "d", type: "CharacterDevice" }], "device"],
    ["a FIFO", [{ path: "f", type: "FIFO" }], "FIFO"],
    ["a sparse file", [{ path: "s", type: "SparseFile" }], "SparseFile"],
  ])("refuses %s", (_what, entries, reason) => {
    expect(findUnsafeEntry(entries)?.reason).toContain(reason);
  });

  it("refuses a chain of links that leaves although each link alone stays inside", () => {
    const refusal = findUnsafeEntry([dir("a"), link("a/b", ".."), link("x", "a/b/../..")]);
    expect(refusal).toEqual({ path: "x", reason: expect.stringContaining("outside the release") });
  });

  it("refuses a link through another link to an absolute path", () => {
    expect(findUnsafeEntry([link("root", "."), dir("d"), link("d/r", "../root/../..")])?.path).toBe("d/r");
  });

  it("refuses links that loop", () => {
    expect(findUnsafeEntry([link("a", "b"), link("b", "a")])?.reason).toContain("loop");
  });

  it("refuses an entry under a link, which extraction would write through", () => {
    expect(findUnsafeEntry([dir("real"), link("l", "real"), file("l/x")])).toEqual({
      path: "l/x",
      reason: "lies under the symbolic link l",
    });
  });

  it("refuses a path given twice, unless both are directories", () => {
    expect(findUnsafeEntry([dir("a"), dir("./a/")])).toBeUndefined();
    expect(findUnsafeEntry([file("a"), link("a", "/etc/passwd")])?.reason).toContain("absolute");
    expect(findUnsafeEntry([file("a"), link("./a", "b")])?.reason).toBe(
      "appears more than once in the artifact",
    );
  });

  it("refuses a hard link to anything but a file listed before it", () => {
    expect(findUnsafeEntry([hardLink("h", "later"), file("later")])?.reason).toContain("not a file earlier");
    expect(findUnsafeEntry([dir("d"), hardLink("h", "d")])?.reason).toContain("not a file earlier");
    expect(findUnsafeEntry([link("l", "x"), hardLink("h", "l")])?.reason).toContain("not a file earlier");
  });
});
