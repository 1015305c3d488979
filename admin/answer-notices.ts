/**
 * The answer studio's mail: the approvers of the topic's agency are told of a draft sent to them, and the
 * author of a draft returned with a comment. `mailAnswerNotices` is a plain async function: the answers'
 * routes call it right after a submit or a return (not waiting for it), and the job worker's sweep calls it
 * again, so a mail that failed (relay down) goes out later. The events are kb's (kb/answer-queue.ts
 * `answerEvents`: submitted_at, returned_at), so a failed mail never loses the submit; each is claimed in
 * admin_answer_notices (0330) before the send, so two nodes or two sweeps never mail it twice, and a failed
 * send gives the claim back.
 */
import { OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Mailer } from '../inquiries/dispatch.js';
import { type AnswerEvent, answerEvents } from '../kb/answer-queue.js';
import type { Sql } from '../store/sql.js';

/** Events older than this are not mailed any more (a store restored from an old backup mails nothing stale). */
const HORIZON_MS = 14 * 86_400_000;
/** A claim older than this is a node that died mid-send: the notice is mailed again. */
const CLAIM_STALE_MS = 15 * 60_000;

export interface AnswerNoticeDeps {
  sql: Sql;
  mailer: Mailer | null;
  log: Logger;
  now?: () => Date;
  /** The staff UI's address, for the link in the mail (e.g. https://122.example.ru/); without it, no link. */
  baseUrl?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Sets (or clears, with null) a staff member's mail address. */
export async function setStaffEmail(sql: Sql, login: string, email: string | null): Promise<void> {
  const address = email?.trim().toLowerCase() || null;
  if (address && !EMAIL.test(address))
    throw new OtklikError('VALIDATION_FAILED', `Адрес «${email}» не похож на адрес электронной почты`);
  const rows = await sql.query('UPDATE admin_users SET email = $2 WHERE login = $1 RETURNING login', [
    login,
    address,
  ]);
  if (rows.length === 0) throw new OtklikError('NOT_FOUND', `Сотрудника ${login} нет`);
}

/** Who is told of an event: the agency's approvers (not the draft's author or submitter), or the author. */
async function recipients(sql: Sql, e: AnswerEvent): Promise<string[]> {
  if (e.kind === 'returned') {
    const rows = await sql.query<{ email: string }>(
      'SELECT email FROM admin_users WHERE login = $1 AND email IS NOT NULL AND NOT disabled',
      [e.author],
    );
    return rows.map((r) => r.email);
  }
  if (!e.agency) return [];
  const rows = await sql.query<{ email: string }>(
    `SELECT email FROM admin_users
      WHERE role = 'approver' AND agency = $1 AND email IS NOT NULL AND NOT disabled
        AND login <> ALL($2::text[]) ORDER BY login`,
    [e.agency, [e.author, e.submittedBy].filter((x): x is string => x !== null)],
  );
  return [...new Set(rows.map((r) => r.email))];
}

function message(e: AnswerEvent, baseUrl: string | undefined): { subject: string; text: string } {
  const link = baseUrl ? `\n\nОткрыть: ${baseUrl.replace(/\/$/, '')}/#answers` : '';
  const name = `«${e.title}» (${e.intentId}), версия ${e.version}`;
  if (e.kind === 'submitted') {
    return {
      subject: `Служба 122: скрипт на согласование — ${e.title}`,
      text: `На согласование отправлен скрипт ответа ${name}.\nАвтор: ${e.author ?? '—'}.${e.note ? `\nЗаписка автора: ${e.note}` : ''}\n\nБот не озвучивает текст, пока он не согласован. Срок согласования — один рабочий день.${link}`,
    };
  }
  return {
    subject: `Служба 122: скрипт возвращён на доработку — ${e.title}`,
    text: `Скрипт ответа ${name} возвращён на доработку${e.returnedBy ? ` (${e.returnedBy})` : ''}.\nКомментарий: ${e.reviewNote ?? '—'}${link}`,
  };
}

/** Mails every notice due and not yet mailed; returns those sent. A failed send is thrown after the others. */
export async function mailAnswerNotices(
  deps: AnswerNoticeDeps,
): Promise<Array<{ kind: AnswerEvent['kind']; intentId: string; version: number; to: string[] }>> {
  const sent: Array<{ kind: AnswerEvent['kind']; intentId: string; version: number; to: string[] }> = [];
  if (!deps.mailer) return sent;
  const now = (deps.now ?? (() => new Date()))();
  let failure: unknown = null;
  for (const e of await answerEvents(deps.sql, new Date(now.getTime() - HORIZON_MS))) {
    const to = await recipients(deps.sql, e);
    const claimed = await deps.sql.query(
      `INSERT INTO admin_answer_notices (intent_id, version, kind, event_at, state, recipients, claimed_at)
       VALUES ($1, $2, $3, $4, 'sending', $5, $6)
       ON CONFLICT (intent_id, version, kind, event_at) DO UPDATE SET claimed_at = EXCLUDED.claimed_at,
         recipients = EXCLUDED.recipients
         WHERE admin_answer_notices.state = 'sending' AND admin_answer_notices.claimed_at < $7
       RETURNING kind`,
      [e.intentId, e.version, e.kind, e.at, to, now, new Date(now.getTime() - CLAIM_STALE_MS)],
    );
    if (claimed.length === 0) continue;
    const done = () =>
      deps.sql.query(
        `UPDATE admin_answer_notices SET state = 'sent', sent_at = $5
          WHERE intent_id = $1 AND version = $2 AND kind = $3 AND event_at = $4`,
        [e.intentId, e.version, e.kind, e.at, now],
      );
    if (to.length === 0) {
      deps.log.warn(
        { intent: e.intentId, version: e.version, kind: e.kind },
        'answer notice: nobody with a mail address to tell',
      );
      await done();
      continue;
    }
    try {
      await deps.mailer.send({ to: to.join(', '), ...message(e, deps.baseUrl) });
      await done();
      sent.push({ kind: e.kind, intentId: e.intentId, version: e.version, to });
    } catch (err) {
      await deps.sql.query(
        `DELETE FROM admin_answer_notices
          WHERE intent_id = $1 AND version = $2 AND kind = $3 AND event_at = $4 AND state = 'sending'`,
        [e.intentId, e.version, e.kind, e.at],
      );
      deps.log.warn(
        { err, intent: e.intentId, kind: e.kind },
        'answer notice not mailed; the next sweep tries again',
      );
      failure ??= err;
    }
  }
  if (failure) throw failure;
  return sent;
}
