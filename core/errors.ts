/**
 * Every error that crosses a part boundary is an OtklikError: a stable code that callers can switch on,
 * and whether trying again can help (a database outage: yes; a malformed file: no).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'STORE_UNAVAILABLE'
  | 'MODEL_MISSING'
  | 'MODEL_BROKEN'
  | 'ENGINE_FAILED'
  | 'AUDIO_MALFORMED'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'UNAVAILABLE'
  | 'FORBIDDEN'
  /** A mail server refused a message for good (SMTP 5xx): sending it again gets the same answer. */
  | 'MAIL_REJECTED'
  | 'INTERNAL';

export class OtklikError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OtklikError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }
}

export function isOtklikError(err: unknown, code?: ErrorCode): err is OtklikError {
  return err instanceof OtklikError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into an OtklikError, keeping the original as the cause. */
export function toOtklikError(err: unknown, fallback: ErrorCode = 'INTERNAL'): OtklikError {
  if (err instanceof OtklikError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OtklikError(fallback, message, { cause: err });
}
