import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import { startIncident } from './incidents.js';
import { isKbId } from './sample-intents.js';

/**
 * Incident mode's one form: a supervisor starts an incident and, with it, the question callers will ask
 * about it: a topic (new, or one the KB has), an intent with its phrases and the answer's draft, sent for
 * approval at once. Everything is written in one transaction, or nothing. The incident waits for the answer
 * (`incidents.awaits_intent`): callers hear the announcement, and the bot answers the new question, as soon as
 * the responsible agency approves the script (kb/editor.ts `approve`), with nothing more to do.
 */
export interface IncidentWithTopicInput {
  title: string;
  announcement: string;
  level: 'federal' | 'regional';
  startsAt: Date;
  endsAt: Date;
  /** A new topic needs its agency: the agency's participant approves the answer. */
  topic: { id: string; title: string; agency?: string | null };
  intent: { id: string; title: string; phrases: string[] };
  answer: { speech: string; screen: string; note?: string | null };
  /** The supervisor: the draft's author and who sent it for approval. */
  author: string;
}

export interface IncidentWithTopic {
  incidentId: string;
  topicId: string;
  intentId: string;
  version: number;
  topicCreated: boolean;
}

export async function startIncidentWithTopic(
  sql: Sql,
  input: IncidentWithTopicInput,
): Promise<IncidentWithTopic> {
  const problems: string[] = [];
  const blank = (v: string | null | undefined) => v == null || v.trim() === '';
  if (!isKbId(input.topic.id))
    problems.push(`код темы «${input.topic.id}»: латинские строчные буквы, цифры, «_» и «.»`);
  if (!isKbId(input.intent.id))
    problems.push(`код вопроса «${input.intent.id}»: латинские строчные буквы, цифры, «_» и «.»`);
  if (blank(input.intent.title)) problems.push('название вопроса не может быть пустым');
  const phrases = [...new Set(input.intent.phrases.map((p) => p.trim()).filter((p) => p !== ''))];
  if (phrases.length === 0) problems.push('нужна хотя бы одна фраза, которой граждане задают вопрос');
  if (blank(input.answer.speech)) problems.push('текст ответа для озвучивания не может быть пустым');
  if (blank(input.answer.screen)) problems.push('текст ответа для экрана не может быть пустым');
  if (blank(input.author)) problems.push('не указан автор');
  if (problems.length > 0)
    throw new OtklikError('VALIDATION_FAILED', `Инцидент не объявлен: ${problems.join('; ')}`);

  return sql.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM kb_meta WHERE id = 1 FOR UPDATE');
    const [topic] = await tx.query<{ id: string }>('SELECT id FROM topics WHERE id = $1', [input.topic.id]);
    let topicCreated = false;
    if (!topic) {
      if (blank(input.topic.title))
        throw new OtklikError(
          'VALIDATION_FAILED',
          'Инцидент не объявлен: название новой темы не может быть пустым',
        );
      if (blank(input.topic.agency))
        throw new OtklikError(
          'VALIDATION_FAILED',
          'Инцидент не объявлен: для новой темы укажите уполномоченное лицо — его ведомство согласует ответ',
        );
      const [agency] = await tx.query<{ participant_id: string | null }>(
        'SELECT participant_id FROM agencies WHERE id = $1',
        [input.topic.agency],
      );
      if (!agency)
        throw new OtklikError(
          'VALIDATION_FAILED',
          `Инцидент не объявлен: уполномоченного лица «${input.topic.agency}» нет в базе знаний`,
        );
      if (!agency.participant_id)
        throw new OtklikError(
          'VALIDATION_FAILED',
          `Инцидент не объявлен: у уполномоченного лица «${input.topic.agency}» не указано ведомство, согласовать ответ некому`,
        );
      await tx.query('INSERT INTO topics (id, title, agency_id, participant_id) VALUES ($1, $2, $3, $4)', [
        input.topic.id,
        input.topic.title.trim(),
        input.topic.agency,
        agency.participant_id,
      ]);
      topicCreated = true;
    }
    const [taken] = await tx.query<{ title: string }>('SELECT title FROM intents WHERE id = $1', [
      input.intent.id,
    ]);
    if (taken)
      throw new OtklikError(
        'CONFLICT',
        `Инцидент не объявлен: вопрос с кодом «${input.intent.id}» уже есть («${taken.title}»)`,
      );
    await tx.query(`INSERT INTO intents (id, topic_id, title, handling) VALUES ($1, $2, $3, 'answer')`, [
      input.intent.id,
      input.topic.id,
      input.intent.title.trim(),
    ]);
    await tx.query(
      `INSERT INTO intent_phrases (intent_id, position, text)
       SELECT $1, ord - 1, t FROM unnest($2::text[]) WITH ORDINALITY AS x(t, ord)`,
      [input.intent.id, phrases],
    );
    const at = input.startsAt;
    await tx.query(
      `INSERT INTO answer_versions (intent_id, version, status, speech, screen, author, created_at, note,
                                    submitted_at, submitted_by)
       VALUES ($1, 1, 'pending_approval', $2, $3, $4, $5, $6, $5, $4)`,
      [
        input.intent.id,
        input.answer.speech.trim(),
        input.answer.screen.trim(),
        input.author,
        at,
        input.answer.note ?? null,
      ],
    );
    const incidentId = await startIncident(tx, {
      title: input.title,
      announcement: input.announcement,
      level: input.level,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      topicId: input.topic.id,
      awaitsIntent: input.intent.id,
    });
    return { incidentId, topicId: input.topic.id, intentId: input.intent.id, version: 1, topicCreated };
  });
}
