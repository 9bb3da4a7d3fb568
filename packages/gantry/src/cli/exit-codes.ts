import type { ErrorCode } from "../errors/index.ts";

/**
 * Exit codes of every command (docs/cli.md): 0 success; 1 the operation ran and failed
 * (a deploy that failed or was rolled back); 2 bad usage or input; 3 not authenticated or
 * not allowed; 4 not found; 5 conflict (busy, already exists, different content); 6 the
 * server cannot be reached or is not ready; 70 internal error.
 */
export const exitCodes = {
  ok: 0,
  failed: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  conflict: 5,
  unavailable: 6,
  internal: 70,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "BAD_REQUEST":
    case "INVALID_CONFIG":
    case "UNSAFE_ARCHIVE":
    case "BAD_ARTIFACT":
    case "INVALID_FLAG_SET":
      return exitCodes.usage;
    case "UNAUTHENTICATED":
    case "FORBIDDEN":
      return exitCodes.auth;
    case "NOT_FOUND":
    case "UNKNOWN_SERVICE":
      return exitCodes.notFound;
    case "CONFLICT":
    case "RELEASE_CONTENT_MISMATCH":
    case "ROLLOUT_IN_PROGRESS":
    case "NOTHING_TO_ROLL_BACK":
    case "DEPLOY_REFUSED":
    case "ROLLBACK_BREAKS_DEPENDANTS":
      return exitCodes.conflict;
    case "UNAVAILABLE":
      return exitCodes.unavailable;
    case "INTERNAL":
      return exitCodes.internal;
  }
}
