export {
  type ArtifactEntry,
  type EntryRefusal,
  findUnsafeEntry,
  type ReleaseLimits,
  releaseLimits,
  unsafeEntryReason,
} from "./entry-safety.ts";
export { importRelease } from "./import-release.ts";
export {
  findRelease,
  type ImportedRelease,
  listReleases,
  type ReleaseKey,
  releaseDir,
  removeRelease,
  verifyRelease,
} from "./release-store.ts";
export { checksumOf, type TreeEntry, type TreeSummary, treeChecksum } from "./tree-checksum.ts";
