/**
 * Inquiries, reminders and escalation (worker jobs, plain async functions; admin/jobs/worker.ts runs them on
 * each sweep): a reminder to the agency `beforeMs` before its answer deadline, and after the deadline a mail
 * to the supervisor (mail.supervisorEmail). Each is sent once per inquiry row (one agency's inquiry): the row
 * is claimed (reminder_sent_at / escalated_at) before the mail goes, and released when the mail fails so
 * that the next sweep tries again.
 */
import type { Logger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { inquiryReference, type Mailer } from './dispatch.js';
import { responsibleAgencyId } from './register.js';

export interface ReminderDeps {
  sql: Sql;
  mailer: Mailer | null;
  log: Logger;
  now: () => Date;
  /** How long before the deadline the agency is reminded (jobs.reminderBeforeMs). */
  beforeMs: number;
  /** Who is told of a missed deadline; without it no escalation is sent (and none is recorded). */
  supervisorEmail?: string | undefined;
}

interface DueRow {
  id: number;
  question: string;
  topic_id: string | null;
  agency_id: string | null;
  answer_due_at: Date;
  dispatch_message_id: string | null;
}

type Kind = 'reminder' | 'escalation';
const column: Record<Kind, string> = { reminder: 'reminder_sent_at', escalation: 'escalated_at' };

async function claim(sql: Sql, kind: Kind, id: number, at: Date): Promise<boolean> {
  const col = column[kind];
  const rows = await sql.query(
    `UPDATE inquiries SET ${col} = $2 WHERE id = $1 AND ${col} IS NULL
        AND status IN ('registered', 'dispatched') RETURNING id`,
    [id, at],
  );
  return rows.length > 0;
}

async function release(sql: Sql, kind: Kind, id: number, at: Date): Promise<void> {
  await sql.query(`UPDATE inquiries SET ${column[kind]} = NULL WHERE id = $1 AND ${column[kind]} = $2`, [
    id,
    at,
  ]);
}

/** Sends the reminders and escalations due at `now`; returns how many of each went. */
export async function remindAndEscalate(
  deps: ReminderDeps,
): Promise<{ reminders: number; escalations: number }> {
  const sent = { reminders: 0, escalations: 0 };
  if (!deps.mailer) return sent;
  const now = deps.now();
  const kb = createKnowledgeBase(deps.sql);
  const timeZone = await kb.timezone();
  const ru = (d: Date) => d.toLocaleString('ru-RU', { timeZone });
  const topics = new Map((await kb.topics()).map((t) => [t.id as string, t]));
  const agencyOf = async (r: DueRow) => {
    const id = responsibleAgencyId({ agencyId: r.agency_id }, topics.get(r.topic_id ?? '') ?? null);
    return id ? kb.agency(id) : null;
  };

  // Reminders: dispatched, not answered, the deadline within beforeMs and not yet passed.
  const dueSoon = await deps.sql.query<DueRow>(
    `SELECT id, question, topic_id, agency_id, answer_due_at, dispatch_message_id FROM inquiries
      WHERE status = 'dispatched' AND reminder_sent_at IS NULL AND answer_due_at > $1 AND answer_due_at <= $2
      ORDER BY answer_due_at, id`,
    [now, new Date(now.getTime() + deps.beforeMs)],
  );
  for (const r of dueSoon) {
    const agency = await agencyOf(r);
    if (!agency?.email || !(await claim(deps.sql, 'reminder', r.id, now))) continue;
    const ref = inquiryReference(r.id, agency.id);
    try {
      await deps.mailer.send({
        to: agency.email,
        subject: `Напоминание: обращение № ${r.id} — ответ до ${ru(r.answer_due_at)} ${ref}`,
        text: [
          `Уважаемые коллеги (${agency.name})!`,
          '',
          `Срок ответа на обращение № ${r.id} истекает ${ru(r.answer_due_at)} (местное время).`,
          `Вопрос гражданина: ${r.question}`,
          '',
          'Ответьте по ссылке из первого письма или ответным письмом, не меняя тему.',
          `Код обращения: ${ref}`,
        ].join('\n'),
      });
      sent.reminders++;
      deps.log.info({ inquiryId: r.id }, 'reminder sent to the agency');
    } catch (err) {
      await release(deps.sql, 'reminder', r.id, now);
      deps.log.warn(
        { inquiryId: r.id, err: (err as Error).message },
        'reminder mail failed; next sweep retries',
      );
    }
  }

  // Escalations: the deadline passed without an answer.
  if (!deps.supervisorEmail) return sent;
  const overdue = await deps.sql.query<DueRow>(
    `SELECT id, question, topic_id, agency_id, answer_due_at, dispatch_message_id FROM inquiries
      WHERE status IN ('registered', 'dispatched') AND escalated_at IS NULL AND answer_due_at <= $1
      ORDER BY answer_due_at, id`,
    [now],
  );
  for (const r of overdue) {
    if (!(await claim(deps.sql, 'escalation', r.id, now))) continue;
    const agency = await agencyOf(r);
    try {
      await deps.mailer.send({
        to: deps.supervisorEmail,
        subject: `Просрочен ответ: обращение № ${r.id} (${agency?.name ?? 'ведомство не выбрано'})`,
        text: [
          `Срок ответа на обращение № ${r.id} истёк ${ru(r.answer_due_at)} (местное время), ответа нет.`,
          `Ведомство: ${agency?.name ?? 'не выбрано'}${agency?.email ? ` (${agency.email})` : ''}.`,
          `Вопрос гражданина: ${r.question}`,
          '',
          'Свяжитесь с ведомством; ответ можно внести в разделе «Обращения».',
        ].join('\n'),
      });
      sent.escalations++;
      deps.log.warn({ inquiryId: r.id }, 'agency deadline missed; supervisor told');
    } catch (err) {
      await release(deps.sql, 'escalation', r.id, now);
      deps.log.warn(
        { inquiryId: r.id, err: (err as Error).message },
        'escalation mail failed; next sweep retries',
      );
    }
  }
  return sent;
}
