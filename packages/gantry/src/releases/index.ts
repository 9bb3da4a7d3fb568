export { releaseLimits, unsafeEntryReason } from "./entry-safety.ts";
export { type ImportedRelease, importRelease } from "./import-release.ts";
export { type TreeSummary, treeChecksum } from "./tree-checksum.ts";
