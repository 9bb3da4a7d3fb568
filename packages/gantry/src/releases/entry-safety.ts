import { posix } from "node:path";

export interface ReleaseLimits {
  /** Files, directories and links together. */
  maxEntries: number;
  /** Bytes of all files together, as stored (uncompressed). */
  maxBytes: number;
}

/** Default limits that keep one artifact from filling the disk or the inode table. */
export const releaseLimits: Readonly<ReleaseLimits> = Object.freeze({
  maxEntries: 50_000,
  maxBytes: 1024 ** 3,
});

/** One entry of an artifact as a tar header or a directory walk describes it. */
export interface ArtifactEntry {
  /** Relative to the artifact's root, '/'-separated. */
  path: string;
  /** node-tar's names: File, Directory, SymbolicLink, Link (hard link), FIFO, ... */
  type: string;
  /** Target of a symbolic or hard link. */
  linkpath?: string | undefined;
}

export interface EntryRefusal {
  path: string;
  reason: string;
}

/** "./a//b/" → "a/b"; the root itself ("./", ".") → "". */
export function normalizeEntryPath(path: string): string {
  return path
    .replace(/\\/g, "/")
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .join("/");
}

/** A top-level `.git` is the only thing an import leaves out. */
export function isSkippedEntry(path: string): boolean {
  const normalized = normalizeEntryPath(path);
  return normalized === ".git" || normalized.startsWith(".git/");
}

/**
 * Why one entry may not be part of a release, looking at it alone, or undefined: absolute
 * paths, `..` components, links whose target visibly leaves the release, and anything but
 * regular files, directories and links (devices, FIFOs, sockets, sparse files) are refused.
 */
export function unsafeEntryReason(entry: ArtifactEntry): string | undefined {
  const raw = entry.path.replace(/\\/g, "/");
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) return "has an absolute path";
  if (raw.split("/").includes("..")) return "has a '..' component";
  if (raw.includes("\0")) return "has a NUL byte in its path";
  switch (entry.type) {
    case "File":
    case "OldFile":
    case "ContiguousFile":
    case "Directory":
      return undefined;
    case "SymbolicLink":
      return symlinkTargetReason(normalizeEntryPath(raw), entry.linkpath ?? "");
    case "Link":
      return hardLinkTargetReason(entry.linkpath ?? "");
    case "CharacterDevice":
    case "BlockDevice":
      return "is a device file";
    case "FIFO":
      return "is a FIFO";
    default:
      return `is of type ${entry.type}, which a release may not contain (only files, directories and links)`;
  }
}

function symlinkTargetReason(path: string, target: string): string | undefined {
  if (target === "") return "is a symbolic link without a target";
  if (target.includes("\0")) return "is a symbolic link with a NUL byte in its target";
  if (target.startsWith("/")) return `is a symbolic link to the absolute path ${target}`;
  const resolved = posix.normalize(posix.join(posix.dirname(`./${path}`), target));
  if (resolved === ".." || resolved.startsWith("../"))
    return `is a symbolic link to ${target}, outside the release`;
  return undefined;
}

function hardLinkTargetReason(target: string): string | undefined {
  const normalized = target.replace(/\\/g, "/");
  if (normalized === "") return "is a hard link without a target";
  if (normalized.startsWith("/")) return `is a hard link to the absolute path ${target}`;
  if (normalized.split("/").includes("..")) return `is a hard link to ${target}, outside the release`;
  return undefined;
}

/** Symbolic links followed while resolving one path before it counts as a loop (Linux's own limit). */
const maxLinkHops = 40;

/**
 * The first entry that would make the release unsafe, looking at the whole listing:
 * each entry alone (above), then what only shows in combination — a path given twice, an
 * entry placed under a symbolic link (extracting it would write through the link), a
 * chain of links that leaves the release although each link looks harmless
 * (`a/b -> ..`, then `x -> a/b/..`), and a hard link to anything but a regular file listed
 * before it. Entries must come in archive order; skipped entries (`.git`) left out.
 */
export function findUnsafeEntry(entries: readonly ArtifactEntry[]): EntryRefusal | undefined {
  const types = new Map<string, string>();
  const links = new Map<string, string>();
  for (const entry of entries) {
    const reason = unsafeEntryReason(entry);
    if (reason) return { path: entry.path, reason };
    const path = normalizeEntryPath(entry.path);
    if (path === "") {
      if (entry.type === "Directory") continue;
      return { path: entry.path, reason: "names the release root but is not a directory" };
    }
    const earlier = types.get(path);
    if (earlier !== undefined && !(earlier === "Directory" && entry.type === "Directory")) {
      return { path: entry.path, reason: "appears more than once in the artifact" };
    }
    const parents = path.split("/").slice(0, -1);
    for (let i = 1; i <= parents.length; i++) {
      const parent = parents.slice(0, i).join("/");
      if (links.has(parent)) return { path: entry.path, reason: `lies under the symbolic link ${parent}` };
    }
    if (entry.type === "Link") {
      const target = normalizeEntryPath(entry.linkpath ?? "");
      if (!isRegularFile(types.get(target))) {
        return {
          path: entry.path,
          reason: `is a hard link to ${entry.linkpath}, which is not a file earlier in the artifact`,
        };
      }
    }
    types.set(path, entry.type);
    if (entry.type === "SymbolicLink") links.set(path, entry.linkpath ?? "");
  }
  for (const [path, target] of links) {
    const outcome = resolveLink(path, target, links);
    if (outcome) return { path, reason: `is a symbolic link to ${target}, which ${outcome}` };
  }
  return undefined;
}

function isRegularFile(type: string | undefined): boolean {
  return type === "File" || type === "OldFile" || type === "ContiguousFile" || type === "Link";
}

/**
 * Follows the link at `path` through the other links of the release the way the kernel
 * would; says why it does not stay inside, or undefined when it does (a dangling target
 * inside the release is allowed: it cannot reach anything outside).
 */
function resolveLink(path: string, target: string, links: ReadonlyMap<string, string>): string | undefined {
  const stack = path.split("/").slice(0, -1);
  let pending = target.split("/");
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (stack.length === 0) return "leads outside the release through other links";
      stack.pop();
      continue;
    }
    stack.push(part);
    const next = links.get(stack.join("/"));
    if (next === undefined) continue;
    hops += 1;
    if (hops > maxLinkHops) return `goes through more than ${maxLinkHops} links (a loop)`;
    if (next.startsWith("/")) return "leads to an absolute path through other links";
    stack.pop();
    pending = [...next.split("/"), ...pending];
  }
  return undefined;
}
