/**
 * The one error type Gantry throws on purpose. Every instance carries a stable code from
 * the catalogue (docs/errors.md), the HTTP status the API answers with, and a message that
 * names the field, the value and the fix. Expected outcomes (a failed deploy, a refused
 * request) are values, not throws; this is for requests that cannot be carried out.
 */
export type ErrorCode =
  | "BAD_REQUEST"
  | "INVALID_CONFIG"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "UNKNOWN_SERVICE"
  | "CONFLICT"
  | "RELEASE_CONTENT_MISMATCH"
  | "UNSAFE_ARCHIVE"
  | "BAD_ARTIFACT"
  | "INVALID_FLAG_SET"
  | "ROLLOUT_IN_PROGRESS"
  | "NOTHING_TO_ROLL_BACK"
  | "DEPLOY_REFUSED"
  | "ROLLBACK_BREAKS_DEPENDANTS"
  | "UNAVAILABLE"
  | "INTERNAL";

const statusByCode: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_CONFIG: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UNKNOWN_SERVICE: 404,
  CONFLICT: 409,
  RELEASE_CONTENT_MISMATCH: 409,
  UNSAFE_ARCHIVE: 422,
  BAD_ARTIFACT: 422,
  INVALID_FLAG_SET: 422,
  ROLLOUT_IN_PROGRESS: 409,
  NOTHING_TO_ROLL_BACK: 409,
  DEPLOY_REFUSED: 409,
  ROLLBACK_BREAKS_DEPENDANTS: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface GantryErrorJson {
  error: { code: ErrorCode; message: string; field?: string; details?: unknown };
}

export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { field?: string; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "GantryError";
    this.code = code;
    this.status = statusByCode[code];
    this.field = options.field;
    this.details = options.details;
  }

  toJSON(): GantryErrorJson {
    const error: GantryErrorJson["error"] = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export function isGantryError(value: unknown): value is GantryError {
  return value instanceof GantryError;
}
