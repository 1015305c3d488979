import * as grpc from '@grpc/grpc-js';
import { type ErrorCode, OtklikError, toOtklikError } from '../../core/errors.js';

/**
 * OtklikError ↔ gRPC status. The status code is for gRPC tooling; the exact OtklikError code and
 * `retryable` travel in metadata so the client rebuilds the same error the engine threw.
 */

const CODE_KEY = 'otklik-code';
const RETRYABLE_KEY = 'otklik-retryable';

const toStatus: Record<ErrorCode, grpc.status> = {
  CONFIG_INVALID: grpc.status.INVALID_ARGUMENT,
  VALIDATION_FAILED: grpc.status.INVALID_ARGUMENT,
  AUDIO_MALFORMED: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  CONFLICT: grpc.status.ABORTED,
  CHAT_ENDED: grpc.status.FAILED_PRECONDITION,
  STORE_UNAVAILABLE: grpc.status.UNAVAILABLE,
  STORE_LOCKED: grpc.status.FAILED_PRECONDITION,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  MODEL_MISSING: grpc.status.FAILED_PRECONDITION,
  MODEL_BROKEN: grpc.status.FAILED_PRECONDITION,
  ENGINE_FAILED: grpc.status.INTERNAL,
  INTERNAL: grpc.status.INTERNAL,
  TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  CANCELLED: grpc.status.CANCELLED,
  UNAUTHORIZED: grpc.status.UNAUTHENTICATED,
  FORBIDDEN: grpc.status.PERMISSION_DENIED,
  SIGN_IN_LOCKED: grpc.status.RESOURCE_EXHAUSTED,
  APPROVER_IS_AUTHOR: grpc.status.PERMISSION_DENIED,
  APPROVER_WITHOUT_AGENCY: grpc.status.PERMISSION_DENIED,
  APPROVER_OTHER_AGENCY: grpc.status.PERMISSION_DENIED,
  EDITOR_OTHER_AGENCY: grpc.status.PERMISSION_DENIED,
  MAIL_REJECTED: grpc.status.FAILED_PRECONDITION,
  LINK_INVALID: grpc.status.PERMISSION_DENIED,
  LINK_EXPIRED: grpc.status.FAILED_PRECONDITION,
};

const fromStatus: Partial<Record<grpc.status, { code: ErrorCode; retryable: boolean }>> = {
  [grpc.status.INVALID_ARGUMENT]: { code: 'VALIDATION_FAILED', retryable: false },
  [grpc.status.NOT_FOUND]: { code: 'NOT_FOUND', retryable: false },
  [grpc.status.FAILED_PRECONDITION]: { code: 'ENGINE_FAILED', retryable: false },
  [grpc.status.DEADLINE_EXCEEDED]: { code: 'TIMEOUT', retryable: true },
  [grpc.status.CANCELLED]: { code: 'CANCELLED', retryable: false },
  [grpc.status.UNAVAILABLE]: { code: 'UNAVAILABLE', retryable: true },
  [grpc.status.PERMISSION_DENIED]: { code: 'FORBIDDEN', retryable: false },
  [grpc.status.RESOURCE_EXHAUSTED]: { code: 'UNAVAILABLE', retryable: true },
};

export function grpcStatusFor(code: ErrorCode): grpc.status {
  return toStatus[code] ?? grpc.status.INTERNAL;
}

/** What a handler passes to callback()/emit('error') for any thrown value. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const e = toOtklikError(err);
  const metadata = new grpc.Metadata();
  metadata.set(CODE_KEY, e.code);
  metadata.set(RETRYABLE_KEY, String(e.retryable));
  return { code: grpcStatusFor(e.code), details: e.message, metadata };
}

function isKnownCode(value: string): value is ErrorCode {
  return value in toStatus;
}

/** What grpc-js and OpenSSL say when the TLS handshake fails (an untrusted or mismatched certificate). */
const TLS_PROBLEM = /certificate|self[- ]signed|ssl|tls|handshake|altnames/i;

/** Rebuilds the server's OtklikError from a gRPC error (or classifies a transport failure). */
export function fromServiceError(err: unknown, what: string): OtklikError {
  if (err instanceof OtklikError) return err;
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e?.code !== 'number') return toOtklikError(err, 'UNAVAILABLE');
  const sent = e.metadata?.get(CODE_KEY)[0];
  const message = e.details || e.message || `${what} failed`;
  if (typeof sent === 'string' && isKnownCode(sent)) {
    const retryable = e.metadata?.get(RETRYABLE_KEY)[0] === 'true';
    return new OtklikError(sent, message, { retryable, cause: err });
  }
  const mapped = fromStatus[e.code as grpc.status] ?? { code: 'INTERNAL' as const, retryable: false };
  const prefix =
    e.code !== grpc.status.UNAVAILABLE
      ? ''
      : TLS_PROBLEM.test(message)
        ? 'speech service unreachable: TLS: its certificate is not trusted or the handshake failed ' +
          '(SPEECH_TLS_CA_FILE, SPEECH_TLS_CLIENT_CERT_FILE) / сертификат сервиса речи не принят: '
        : 'speech service unreachable: ';
  return new OtklikError(mapped.code, `${prefix}${what}: ${message}`, {
    retryable: mapped.retryable,
    cause: err,
  });
}
