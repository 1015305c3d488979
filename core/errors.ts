/**
 * Every error that crosses a part boundary is an OtklikError: a stable code that callers can switch on,
 * and whether trying again can help (a database outage: yes; a malformed file: no).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  /** A message to a chat that has already ended: it was not delivered; a new chat is needed. */
  | 'CHAT_ENDED'
  | 'STORE_UNAVAILABLE'
  /** The embedded database is open in another process (store/lock.ts). */
  | 'STORE_LOCKED'
  | 'MODEL_MISSING'
  | 'MODEL_BROKEN'
  | 'ENGINE_FAILED'
  | 'AUDIO_MALFORMED'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'UNAVAILABLE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  /** Too many failed sign-ins for a login: refused until the lockout ends (a retry then helps). */
  | 'SIGN_IN_LOCKED'
  /** The approver wrote or submitted the draft: approval is someone else's act (HTTP 403). */
  | 'APPROVER_IS_AUTHOR'
  /** The approver's account belongs to no agency, or to another agency than the topic's (HTTP 403). */
  | 'APPROVER_WITHOUT_AGENCY'
  | 'APPROVER_OTHER_AGENCY'
  /** A staff member of one agency acts on a topic of another (an editor's draft, an approver's retire): HTTP 403. */
  | 'EDITOR_OTHER_AGENCY'
  /** A mail server refused a message for good (SMTP 5xx): sending it again gets the same answer. */
  | 'MAIL_REJECTED'
  /** An agency's answer link whose signature does not match (altered or cut): HTTP 403. */
  | 'LINK_INVALID'
  /** An agency's answer link past its expiry: HTTP 410. */
  | 'LINK_EXPIRED'
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

/** The HTTP status that tells a client what an error means (and, with `retryable`, whether to try again). */
const httpStatusOf: Record<ErrorCode, number> = {
  CONFIG_INVALID: 500,
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CHAT_ENDED: 409,
  STORE_LOCKED: 503,
  MAIL_REJECTED: 502,
  APPROVER_IS_AUTHOR: 403,
  APPROVER_WITHOUT_AGENCY: 403,
  APPROVER_OTHER_AGENCY: 403,
  EDITOR_OTHER_AGENCY: 403,
  STORE_UNAVAILABLE: 503,
  MODEL_MISSING: 503,
  MODEL_BROKEN: 503,
  ENGINE_FAILED: 503,
  AUDIO_MALFORMED: 400,
  TIMEOUT: 504,
  CANCELLED: 409,
  UNAVAILABLE: 503,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  SIGN_IN_LOCKED: 429,
  LINK_INVALID: 403,
  LINK_EXPIRED: 410,
  INTERNAL: 500,
};

/** What a person is told when a part gave only a technical (English) text for its error. */
const russianByCode: Record<ErrorCode, string> = {
  CONFIG_INVALID: 'Ошибка в настройках сервера',
  VALIDATION_FAILED: 'Неверные данные запроса',
  NOT_FOUND: 'Запись не найдена',
  CONFLICT: 'Действие невозможно в текущем состоянии записи',
  CHAT_ENDED: 'Разговор завершён, сообщение не доставлено',
  STORE_LOCKED: 'Встроенная база данных занята другим процессом',
  MAIL_REJECTED: 'Почтовый сервер отклонил письмо',
  APPROVER_IS_AUTHOR: 'Утвердить ответ может только другой сотрудник, не автор и не отправивший его',
  APPROVER_WITHOUT_AGENCY: 'Учётная запись не привязана к уполномоченному лицу: утверждение недоступно',
  APPROVER_OTHER_AGENCY: 'Эту тему утверждает другое уполномоченное лицо',
  EDITOR_OTHER_AGENCY: 'Эта тема относится к другому ведомству',
  STORE_UNAVAILABLE: 'База данных недоступна, повторите позже',
  MODEL_MISSING: 'Модель распознавания не установлена',
  MODEL_BROKEN: 'Модель распознавания повреждена',
  ENGINE_FAILED: 'Речевой движок не работает, повторите позже',
  AUDIO_MALFORMED: 'Неверный формат аудио',
  TIMEOUT: 'Истекло время ожидания, повторите позже',
  CANCELLED: 'Действие отменено',
  UNAVAILABLE: 'Сервис временно недоступен, повторите позже',
  UNAUTHORIZED: 'Требуется вход в систему',
  FORBIDDEN: 'Недостаточно прав для этого действия',
  SIGN_IN_LOCKED: 'Слишком много неудачных попыток входа, повторите позже',
  LINK_INVALID: 'Ссылка повреждена или изменена',
  LINK_EXPIRED: 'Срок действия ссылки истёк',
  INTERNAL: 'Внутренняя ошибка сервера',
};

const cyrillic = /[А-Яа-яЁё]/;

/** The body of an error answer; `error` repeats `code` for clients written against the desk API contract. */
export interface ErrorBody {
  code: string;
  error: string;
  message: string;
  retryable: boolean;
  /** The technical text when `message` had to be replaced by a Russian one. */
  detail?: string;
  details?: Record<string, unknown>;
}

/**
 * An error as an HTTP client gets it: the status, the code, a message a person can read (Russian: the part's
 * own message when it is Russian, else the sentence for its code with the original as `detail`).
 */
export function errorReply(
  code: string,
  message: string,
  opts: { status?: number; retryable?: boolean; russian?: string; details?: Record<string, unknown> } = {},
): { status: number; body: ErrorBody } {
  const known = code in httpStatusOf ? (code as ErrorCode) : null;
  const status = opts.status ?? (known ? httpStatusOf[known] : 500);
  const fallback = opts.russian ?? (known ? russianByCode[known] : 'Запрос не может быть выполнен');
  const russian = cyrillic.test(message);
  const body: ErrorBody = {
    code,
    error: code,
    message: russian ? message : fallback,
    retryable: opts.retryable ?? false,
  };
  if (!russian && message) body.detail = message;
  if (opts.details) body.details = opts.details;
  return { status, body };
}

/** `errorReply` of an OtklikError. */
export function otklikErrorReply(err: OtklikError): { status: number; body: ErrorBody } {
  return errorReply(err.code, err.message, {
    retryable: err.retryable,
    ...(err.details ? { details: err.details } : {}),
  });
}
