import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';

/**
 * Whose topics a staff member works on. An account bound to an agency (a KB participant: `admin_users.agency`)
 * writes and sends for approval only the answers of that participant's topics; an account without one is the
 * region's and works on every topic. (Approval is stricter: kb/editor.ts requires the topic's own agency.)
 */
export interface StaffScope {
  login: string;
  agency: string | null;
}

/** Refuses `staff` bound to an agency other than the one of the intent's topic (EDITOR_OTHER_AGENCY). */
export async function requireIntentInScope(sql: Sql, intentId: string, staff: StaffScope): Promise<void> {
  if (!staff.agency) return;
  const [topic] = await sql.query<{ title: string; participant_id: string | null; name: string | null }>(
    `SELECT t.title, t.participant_id, p.name FROM intents i JOIN topics t ON t.id = i.topic_id
       LEFT JOIN participants p ON p.id = t.participant_id WHERE i.id = $1`,
    [intentId],
  );
  if (!topic) throw new OtklikError('NOT_FOUND', `Намерения «${intentId}» нет в базе знаний`);
  if (topic.participant_id === staff.agency) return;
  const [own] = await sql.query<{ name: string }>('SELECT name FROM participants WHERE id = $1', [
    staff.agency,
  ]);
  throw new OtklikError(
    'EDITOR_OTHER_AGENCY',
    topic.participant_id
      ? `Тема «${topic.title}» относится к ведомству «${topic.name ?? topic.participant_id}»; учётная запись ${staff.login} работает только с темами ведомства «${own?.name ?? staff.agency}»`
      : `У темы «${topic.title}» не указано ведомство: её ответы пишут редакторы региона, учётная запись ${staff.login} относится к ведомству «${own?.name ?? staff.agency}»`,
  );
}
