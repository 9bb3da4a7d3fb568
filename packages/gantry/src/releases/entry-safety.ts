import { posix } from "node:path";

/** Limits that keep one artifact from filling the disk or the inode table. */
export const releaseLimits = { maxEntries: 50_000, maxBytes: 1024 ** 3 };

/**
 * Why an entry may not be part of a release, or undefined when it is safe: absolute paths,
 * `..` components, links whose target leaves the release, and anything but regular files,
 * directories and links (devices, FIFOs, sockets) are refused.
 */
export function unsafeEntryReason(entry: {
  path: string;
  type: string;
  linkpath?: string | undefined;
}): string | undefined {
  const path = entry.path.replace(/\\/g, "/");
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "has an absolute path";
  if (path.split("/").includes("..")) return "has a '..' component";
  if (path.includes("\0")) return "has a NUL byte in its path";
  switch (entry.type) {
    case "File":
    case "OldFile":
    case "ContiguousFile":
    case "Directory":
      return undefined;
    case "SymbolicLink":
      return linkLeaves(path, entry.linkpath ?? "", "symbolic link");
    case "Link":
      return hardLinkLeaves(entry.linkpath ?? "");
    case "CharacterDevice":
    case "BlockDevice":
      return "is a device file";
    case "FIFO":
      return "is a FIFO";
    default:
      return `is of type ${entry.type}, which a release may not contain`;
  }
}

/** A symlink at `path` pointing to `target` must resolve inside the release root. */
export function linkLeaves(path: string, target: string, kind = "symbolic link"): string | undefined {
  if (target === "") return `is a ${kind} without a target`;
  if (target.startsWith("/")) return `is a ${kind} to the absolute path ${target}`;
  const resolved = posix.normalize(posix.join(posix.dirname(`./${path}`), target));
  if (resolved === ".." || resolved.startsWith("../"))
    return `is a ${kind} to ${target}, outside the release`;
  return undefined;
}

function hardLinkLeaves(target: string): string | undefined {
  const normalized = target.replace(/\\/g, "/");
  if (normalized.startsWith("/")) return `is a hard link to the absolute path ${target}`;
  if (normalized.split("/").includes("..")) return `is a hard link to ${target}, outside the release`;
  return undefined;
}
