// One catalogue of the errors belay reports, each with the HTTP status a face
// answers with and the exit status the CLI ends with. Protocol errors (the
// caller sent something wrong), policy errors (the bundle is wrong) and
// internal errors stay apart so a caller can tell whose fault it was.

export const ErrorCodes = {
  bad_request: { http: 400, exit: 2, summary: 'the request is malformed' },
  unsupported_media_type: { http: 415, exit: 2, summary: 'the body must be JSON' },
  payload_too_large: { http: 413, exit: 2, summary: 'the body exceeds the configured limit' },
  unauthorized: { http: 401, exit: 2, summary: 'a valid bearer token is required' },
  forbidden: { http: 403, exit: 1, summary: 'the caller may not do this' },
  not_found: { http: 404, exit: 1, summary: 'no such resource' },
  conflict: { http: 409, exit: 1, summary: 'the resource changed or was already decided' },
  bundle_invalid: { http: 500, exit: 3, summary: 'the policy bundle cannot be used' },
  evaluation_failed: { http: 500, exit: 3, summary: 'policy evaluation failed' },
  not_ready: { http: 503, exit: 3, summary: 'no policy bundle is active yet' },
  internal: { http: 500, exit: 4, summary: 'an unexpected internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error that knows its place in the catalogue. */
export class BelayError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BelayError';
    this.code = code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return ErrorCodes[this.code].http;
  }

  get exitStatus(): number {
    return ErrorCodes[this.code].exit;
  }
}

/** Wraps anything thrown (strings included: the wasm SDK throws them) as a BelayError. */
export function asBelayError(err: unknown, fallback: ErrorCode = 'internal'): BelayError {
  if (err instanceof BelayError) return err;
  if (err instanceof Error) return new BelayError(fallback, err.message, { cause: err });
  if (typeof err === 'object' && err !== null && 'message' in err) {
    return new BelayError(fallback, String((err as { message: unknown }).message), { cause: err });
  }
  return new BelayError(fallback, String(err), { cause: err });
}
