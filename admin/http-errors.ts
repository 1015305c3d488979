/**
 * How the HTTP API refuses: every error answer, whoever raised it (a route, a schema, fastify itself, the
 * store), has one JSON shape — an UPPER_SNAKE `code`, a Russian `message`, `retryable` — and bad input is a 4xx,
 * never a 500. NUL characters are refused before any handler sees them: PostgreSQL cannot store them.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorReply, isOtklikError, OtklikError, otklikErrorReply } from '../core/errors.js';
import type { TypedApp } from './typed.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's body may carry control characters (NUL included) because its handler removes them itself:
     * the citizen chat keeps such a message rather than refusing what a person typed.
     */
    acceptsControlChars?: boolean;
  }
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

const partRu: Record<string, string> = {
  body: 'в теле запроса',
  params: 'в адресе',
  querystring: 'в параметрах запроса',
  headers: 'в заголовках',
};
const typeRu: Record<string, string> = {
  string: 'строкой',
  integer: 'целым числом',
  number: 'числом',
  object: 'объектом',
  array: 'массивом',
  boolean: 'логическим значением (true или false)',
  null: 'null',
};

/** One refused schema keyword in Russian (ajv's own texts are English). */
function keywordRu(e: SchemaError, all: SchemaError[]): string {
  const p = e.params;
  switch (e.keyword) {
    case 'required':
      return `не указано обязательное поле «${String(p.missingProperty)}»`;
    case 'type':
      return `должно быть ${String(p.type)
        .split(',')
        .map((t) => typeRu[t] ?? t)
        .join(' или ')}`;
    case 'minLength':
      return `должно быть не короче ${String(p.limit)} символов`;
    case 'maxLength':
      return `должно быть не длиннее ${String(p.limit)} символов`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `должно быть не меньше ${String(p.limit)}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `должно быть не больше ${String(p.limit)}`;
    case 'pattern':
      return 'не соответствует допустимому формату';
    case 'format':
      return p.format === 'uuid'
        ? 'должно быть идентификатором UUID'
        : `должно быть в формате ${String(p.format)}`;
    case 'additionalProperties':
      return `лишнее поле «${String(p.additionalProperty)}»`;
    case 'minProperties':
      return `нужно не меньше ${String(p.limit)} полей`;
    case 'maxProperties':
      return `нужно не больше ${String(p.limit)} полей`;
    case 'const':
    case 'enum':
    case 'anyOf': {
      const allowed = all
        .filter((x) => x.instancePath === e.instancePath)
        .flatMap((x) => (x.params.allowedValues as unknown[]) ?? [x.params.allowedValue])
        .filter((v) => v !== undefined);
      return allowed.length ? `допустимые значения: ${allowed.join(', ')}` : 'недопустимое значение';
    }
    default:
      return 'недопустимое значение';
  }
}

/** A schema refusal as a person reads it: which field, where, and what is expected. */
export function validationMessage(
  errors: SchemaError[],
  context: string,
): { message: string; field: string } {
  const first = errors.find((e) => e.keyword !== 'anyOf') ?? errors[0]!;
  const name = first.instancePath.split('/').filter(Boolean).join('.');
  const where = partRu[context] ?? context;
  const text = keywordRu(first, errors);
  const message = name ? `Поле «${name}» ${where}: ${text}` : `Ошибка ${where}: ${text}`;
  return { message, field: [context, name].filter(Boolean).join('.') };
}

/** Fastify's own refusals (parsing, routing), in Russian and with this API's codes. */
const frameworkRu: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'BAD_REQUEST',
    message: 'Пустое тело запроса: при Content-Type application/json нужен JSON',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', message: 'Тело запроса — не корректный JSON' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Этот тип содержимого не принимается: отправьте JSON (application/json)',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: 'Запрос слишком большой' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: 'Неверная длина тела запроса' },
  FST_ERR_BAD_URL: { code: 'BAD_URL', message: 'Адрес запроса содержит недопустимые символы' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'URI_TOO_LONG', message: 'Слишком длинный адрес запроса' },
};
const byStatus: Record<number, { code: string; message: string }> = {
  400: { code: 'BAD_REQUEST', message: 'Неверный запрос' },
  401: { code: 'UNAUTHORIZED', message: 'Требуется вход в систему' },
  403: { code: 'FORBIDDEN', message: 'Доступ запрещён' },
  404: { code: 'NOT_FOUND', message: 'Не найдено' },
  405: { code: 'METHOD_NOT_ALLOWED', message: 'Этот метод здесь не поддерживается' },
  408: { code: 'TIMEOUT', message: 'Истекло время запроса, повторите' },
  409: { code: 'CONFLICT', message: 'Действие невозможно в текущем состоянии записи' },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'Запрос слишком большой' },
  414: { code: 'URI_TOO_LONG', message: 'Слишком длинный адрес запроса' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Этот тип содержимого не принимается' },
  429: { code: 'RATE_LIMITED', message: 'Слишком много запросов, повторите позже' },
};

/** The error answer for anything thrown while serving a request. */
function replyFor(err: unknown): { status: number; body: ReturnType<typeof errorReply>['body'] } {
  if (isOtklikError(err)) return otklikErrorReply(err);
  const e = err as FastifyError & { validation?: SchemaError[]; validationContext?: string };
  if (e.validation) {
    const { message, field } = validationMessage(e.validation, e.validationContext ?? 'body');
    return errorReply('VALIDATION_FAILED', message, { details: { field } });
  }
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const known = (e.code && frameworkRu[e.code]) || byStatus[status] || byStatus[400]!;
    return errorReply(known.code, e.message ?? '', {
      status,
      russian: known.message,
      retryable: status === 408 || status === 429,
    });
  }
  return errorReply('INTERNAL', 'Внутренняя ошибка сервера', { status: 500, retryable: true });
}

/** The first string (or key) holding a NUL, as `body.a.b`; null when there is none. */
function nulAt(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const [k, v] of Object.entries(value)) {
    const at = `${path}.${k}`;
    if (k.includes('\u0000')) return path;
    const found = nulAt(v, at, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Installs the one error shape on the app: the error and not-found handlers and the NUL check. */
export function installErrorHandling(app: TypedApp): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = replyFor(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const { body } = errorReply('NOT_FOUND', `${request.method} ${request.url.split('?')[0]}`, {
      russian: 'Такого адреса нет',
    });
    return reply.code(404).send(body);
  });

  app.addHook('preValidation', async (request: FastifyRequest, _reply: FastifyReply) => {
    const at =
      nulAt(request.params, 'params') ??
      nulAt(request.query, 'querystring') ??
      (request.routeOptions.config.acceptsControlChars ? null : nulAt(request.body, 'body'));
    if (at) {
      throw new OtklikError('VALIDATION_FAILED', `Поле «${at}» содержит недопустимый символ NUL (\\u0000)`, {
        details: { field: at },
      });
    }
  });
}

/** Fastify's refusals before routing (a malformed or overlong URL) get the same answer as the rest. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = replyFor(err);
  void reply.code(status).send(body);
}
