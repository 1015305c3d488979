import { readFileSync } from 'node:fs';
import { Type } from 'typebox';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import { agencyInquiryView, recordAnswerFromAgency } from '../../inquiries/agency-answer.js';
import { type AnswerLinkClaims, verifyAnswerLink } from '../../inquiries/agency-link.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import type { TypedApp } from '../typed.js';

export interface AgencyAnswerPluginOptions {
  sql: Sql;
  /** The secret the dispatch mail's links are signed with; without it every link is refused (404 page). */
  secret: string | undefined;
  /** The clock that says whether a link expired; tests set it. */
  now?: () => Date;
  /** Requests per IP address and window, for the page and the API together (default 30 a minute). */
  rateLimit?: { max: number; timeWindowMs: number };
}

const formPage = readFileSync(new URL('../ui/answer.html', import.meta.url), 'utf8');

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A page of its own for a link that cannot open the form: what happened and what to do instead. */
function refusalPage(title: string, text: string): string {
  return `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Служба 122 — ${escapeHtml(title)}</title><link rel="stylesheet" href="/style.css"></head>
<body><header><h1>Служба 122 <small>ответ ведомства</small></h1></header>
<main><h2 id="refusal">${escapeHtml(title)}</h2><p>${escapeHtml(text)}</p></main></body></html>`;
}

const refusalTitle: Record<string, string> = {
  LINK_INVALID: 'Ссылка недействительна',
  LINK_EXPIRED: 'Срок действия ссылки истёк',
  NOT_FOUND: 'Ответ по ссылке не принимается',
};

/**
 * The agency answers without an account: the signed link of the dispatch mail (inquiries/agency-link.ts)
 * opens `/agency/answer` (admin/ui/answer.html and answer.js), which reads the inquiry and submits the one
 * answer through `/api/agency-answer`. A tampered link is 403, an expired one 410, each with a Russian page;
 * a second answer is 409. Rate-limited per address; every answer is audited as from the agency.
 */
export async function agencyAnswerPlugin(app: TypedApp, opts: AgencyAnswerPluginOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());
  const limit = opts.rateLimit ?? { max: 30, timeWindowMs: 60_000 };
  const rateLimit = { max: limit.max, timeWindow: limit.timeWindowMs };
  const claimsOf = (token: string): AnswerLinkClaims => {
    if (!opts.secret)
      throw new OtklikError('NOT_FOUND', 'Ответ по ссылке не принимается: ответьте на письмо службы 122.');
    return verifyAnswerLink(opts.secret, token, now());
  };
  const Token = Type.String({ minLength: 1, maxLength: 2000, description: 'подписанный токен из письма' });

  app.get(
    '/agency/answer',
    {
      config: { rateLimit },
      schema: {
        tags: ['agency-answer'],
        summary: 'Страница ответа ведомства по ссылке из письма (без входа)',
        querystring: Type.Object({ t: Type.Optional(Type.String({ maxLength: 2000 })) }),
      },
    },
    async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      try {
        const claims = claimsOf(request.query.t ?? '');
        // The inquiry must still be this agency's: a link for another agency's row is refused too.
        await agencyInquiryView(sql, claims.inquiryId, claims.agencyId);
        return formPage;
      } catch (err) {
        if (!isOtklikError(err) || !refusalTitle[err.code]) throw err;
        reply.code(err.code === 'LINK_EXPIRED' ? 410 : err.code === 'NOT_FOUND' ? 404 : 403);
        return refusalPage(refusalTitle[err.code]!, err.message);
      }
    },
  );

  app.get(
    '/api/agency-answer',
    {
      config: { rateLimit },
      schema: {
        tags: ['agency-answer'],
        summary: 'Обращение по подписанной ссылке: вопрос, выдержка из разговора, срок',
        querystring: Type.Object({ t: Token }),
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const claims = claimsOf(request.query.t);
      const view = await agencyInquiryView(sql, claims.inquiryId, claims.agencyId);
      return { inquiry: view, linkExpiresAt: claims.expiresAt };
    },
  );

  app.post(
    '/api/agency-answer',
    {
      config: { rateLimit },
      schema: {
        tags: ['agency-answer'],
        summary: 'Ответ ведомства по подписанной ссылке (один раз)',
        body: Type.Object({ t: Token, text: Type.String({ minLength: 1, maxLength: 20_000 }) }),
      },
    },
    async (request) => {
      const claims = claimsOf(request.body.t);
      const at = now();
      const { draft } = await recordAnswerFromAgency(sql, {
        inquiryId: claims.inquiryId,
        agencyId: claims.agencyId,
        text: request.body.text,
        channel: 'web',
        now: at,
      });
      await writeAudit(sql, `agency:${claims.agencyId}`, 'inquiry.answer', String(claims.inquiryId), {
        channel: 'web',
      });
      return { ok: true, answeredAt: at, draft };
    },
  );
}
