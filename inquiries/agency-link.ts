/**
 * Inquiries, the agency's answer link: a signed, expiring link in the dispatch mail opens the answer form
 * without an account. The token is `payload.signature`, both base64url: the payload names the inquiry row,
 * the agency and the expiry (ms since the epoch), the signature is HMAC-SHA256 over the payload with the
 * configured secret (mail.answerLinkSecret). Nothing is stored for a link: the row's id and agency decide.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { OtklikError } from '../core/errors.js';

export interface AnswerLinkClaims {
  inquiryId: number;
  agencyId: string;
  expiresAt: Date;
}

export interface AnswerLinkOptions {
  /** At least 32 characters; the composition root gives it (cli/answer-link-secret.ts). */
  secret: string;
  /** The line's address as agencies reach it, e.g. https://122.region.ru (mail.publicUrl). */
  publicUrl: string;
  /** How long after the answer deadline the link still works (mail.answerLinkGraceMs). */
  graceMs: number;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest();

export function signAnswerLink(secret: string, claims: AnswerLinkClaims): string {
  const payload = b64(JSON.stringify([claims.inquiryId, claims.agencyId, claims.expiresAt.getTime()]));
  return `${payload}.${b64(sign(secret, payload))}`;
}

/** The link the mail carries: the form's page with the token. */
export function answerLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/agency/answer?t=${encodeURIComponent(token)}`;
}

/**
 * The claims of a token signed with `secret`: LINK_INVALID when it was altered, cut or signed with another
 * secret; LINK_EXPIRED when the signature holds and `now` is past its expiry (the claims in `details`).
 */
export function verifyAnswerLink(
  secret: string,
  token: string,
  now: Date,
  opts: { ignoreExpiry?: boolean } = {},
): AnswerLinkClaims {
  const invalid = () =>
    new OtklikError(
      'LINK_INVALID',
      'Ссылка повреждена или изменена. Откройте ссылку из письма службы 122 целиком или ответьте на письмо.',
    );
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) throw invalid();
  const expected = sign(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== 'string' ||
    !Number.isSafeInteger(parsed[2])
  )
    throw invalid();
  const claims = { inquiryId: parsed[0], agencyId: parsed[1], expiresAt: new Date(parsed[2]) };
  if (!opts.ignoreExpiry && now.getTime() > claims.expiresAt.getTime())
    throw new OtklikError(
      'LINK_EXPIRED',
      `Срок действия ссылки истёк. Ответ по обращению № ${claims.inquiryId} можно направить ответным письмом на письмо службы 122.`,
      { details: { inquiryId: claims.inquiryId } },
    );
  return claims;
}
