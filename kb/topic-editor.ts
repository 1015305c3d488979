import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import { flowShapeIssues } from './flow-check.js';
import { flagPhrases, type PhraseFlag, phraseKey } from './phrase-check.js';
import { isKbId } from './sample-intents.js';
import type { IntentHandling } from './types.js';

export { type PhraseFlag, phraseKey } from './phrase-check.js';

/**
 * The editors' work on topics and intents (the studio's «Темы и намерения»): create, rename, merge, retire
 * and restore, and training phrases checked against the whole KB as they are added.
 *
 * - Ids are permanent: a rename changes the title only. Call records, inquiries, the audit log and trained
 *   models name intents by id, so an id never changes once created (a new id is a new intent plus a merge).
 * - Nothing is deleted: a topic or intent is retired (`retired_at`), and can be restored. A retired intent, and
 *   every intent of a retired topic, is left out of the reader's intents(), so it is not trained, classified
 *   or served.
 * - Retiring or merging away an intent that something needs is refused with the reason: the intents the
 *   dialog engine names in its code (`engineIntentIds`), and intents a call flow branches on. Retiring a
 *   topic is refused while an IVR menu leads to it or one of its intents is so needed. The flow or menu is
 *   the editor's to change first; nothing is rewritten behind their back.
 * - An editor who belongs to an agency (a KB participant) works only on the topics of that participant.
 *
 * Each write is one transaction serialized with the other KB edits on the meta row (as content-editor.ts).
 */

/** Who edits: the staff login and the participant (agency) the account belongs to, if any. */
export interface TopicEditorActor {
  login: string;
  agency: string | null;
}

/** Intents the dialog engine names in its own code (voicebot/): they are never retired or merged away. */
export const engineIntentIds: ReadonlySet<string> = new Set([
  'dialog.yes',
  'dialog.no',
  'dialog.repeat',
  'dialog.goodbye',
  'dialog.greeting',
  'emergency',
  'out_of_scope',
  'service.operator',
  'service.callback',
]);

export interface TopicInput {
  id: string;
  title: string;
  agency?: string | null;
  participant?: string | null;
}

export interface NewIntentInput {
  id: string;
  topicId: string;
  title: string;
  handling?: IntentHandling;
  phrases?: string[];
}

export interface IntentSummary {
  id: string;
  topicId: string;
  title: string;
  handling: IntentHandling;
  phrases: number;
  retired: boolean;
  mergedInto: string | null;
}

export interface TopicSummary {
  id: string;
  title: string;
  agencyId: string | null;
  participantId: string | null;
  participantName: string | null;
  retired: boolean;
  intents: IntentSummary[];
}

export interface IntentDetail extends Omit<IntentSummary, 'phrases'> {
  topicTitle: string;
  topicRetired: boolean;
  participantId: string | null;
  phrases: string[];
}

export interface AddPhrasesResult {
  added: string[];
  /** Exact duplicates (after normalization) of this intent's phrases, or repeated in the list: never added. */
  skipped: string[];
  /** Phrases another intent already has: added only when the editor confirms. */
  needsConfirmation: Array<{ text: string; intent: string; intentTitle: string }>;
}

export interface MergeResult {
  moved: number;
  dropped: number;
  answersRetired: number;
}

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function requiredTitle(title: string | undefined): string {
  const t = title?.trim() ?? '';
  if (t === '') throw new OtklikError('VALIDATION_FAILED', 'Название не может быть пустым');
  if (t.length > 200) throw new OtklikError('VALIDATION_FAILED', 'Название длиннее 200 символов');
  return t;
}

function requiredId(id: string, what: string): string {
  if (!isKbId(id))
    throw new OtklikError(
      'VALIDATION_FAILED',
      `Код ${what} «${id}» недопустим: только строчные латинские буквы, цифры, «_» и «.»`,
    );
  return id;
}

export interface TopicEditor {
  /** Every topic (retired ones too) with its intents and their phrase counts. */
  list(): Promise<TopicSummary[]>;
  intent(id: string): Promise<IntentDetail>;
  createTopic(input: TopicInput, by: TopicEditorActor): Promise<void>;
  renameTopic(id: string, title: string, by: TopicEditorActor): Promise<void>;
  retireTopic(id: string, by: TopicEditorActor): Promise<void>;
  restoreTopic(id: string, by: TopicEditorActor): Promise<void>;
  createIntent(input: NewIntentInput, by: TopicEditorActor): Promise<void>;
  renameIntent(id: string, title: string, by: TopicEditorActor): Promise<void>;
  retireIntent(id: string, by: TopicEditorActor): Promise<void>;
  restoreIntent(id: string, by: TopicEditorActor): Promise<void>;
  mergeIntents(from: string, into: string, by: TopicEditorActor): Promise<MergeResult>;
  /** Flags each phrase against this intent's phrases, the list itself and every other active intent's. */
  checkPhrases(intentId: string, phrases: string[]): Promise<PhraseFlag[]>;
  /** Adds the new phrases; exact duplicates are skipped, other intents' phrases wait for `confirm`. */
  addPhrases(
    intentId: string,
    phrases: string[],
    by: TopicEditorActor,
    opts?: { confirm?: boolean },
  ): Promise<AddPhrasesResult>;
  removePhrase(intentId: string, text: string, by: TopicEditorActor): Promise<boolean>;
}

export function createTopicEditor(sql: Sql, opts: { now?: () => Date } = {}): TopicEditor {
  const now = opts.now ?? (() => new Date());

  const write = <T>(work: (tx: Sql) => Promise<T>): Promise<T> =>
    sql.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM kb_meta WHERE id = 1 FOR UPDATE');
      return work(tx);
    });

  const topicRow = async (tx: Sql, id: string): Promise<Row> => {
    const [row] = await tx.query<Row>(
      'SELECT t.*, p.name AS participant_name FROM topics t LEFT JOIN participants p ON p.id = t.participant_id WHERE t.id = $1',
      [id],
    );
    if (!row) throw new OtklikError('NOT_FOUND', `Темы «${id}» нет в базе знаний`);
    return row;
  };

  const intentRow = async (tx: Sql, id: string): Promise<Row> => {
    const [row] = await tx.query<Row>(
      `SELECT i.*, t.title AS topic_title, t.participant_id, t.retired_at AS topic_retired_at,
              p.name AS participant_name
         FROM intents i JOIN topics t ON t.id = i.topic_id LEFT JOIN participants p ON p.id = t.participant_id
        WHERE i.id = $1`,
      [id],
    );
    if (!row) throw new OtklikError('NOT_FOUND', `Намерения «${id}» нет в базе знаний`);
    return row;
  };

  /** An editor of an agency works on her participant's topics only. */
  const mayEdit = (topic: Row, by: TopicEditorActor) => {
    if (!by.agency || topic.participant_id === by.agency) return;
    const owner = str(topic.participant_name) ?? str(topic.participant_id) ?? 'без ведомства';
    throw new OtklikError(
      'FORBIDDEN',
      `Тема «${String(topic.topic_title ?? topic.title)}» относится к ведомству «${owner}»: учётная запись ${by.login} правит только темы своего ведомства`,
    );
  };

  /** Why an intent cannot go (retire, merge away), or null. */
  const neededBy = async (tx: Sql, intentId: string): Promise<string | null> => {
    if (engineIntentIds.has(intentId))
      return `намерение «${intentId}» нужно самому голосовому боту, его нельзя убрать`;
    const flows = await tx.query<{ id: string; document: unknown }>(
      'SELECT id, document FROM flows ORDER BY id',
    );
    for (const f of flows) {
      const doc = typeof f.document === 'string' ? JSON.parse(f.document) : f.document;
      const { flow } = flowShapeIssues(doc);
      const step = flow?.steps.find(
        (s) => s.type === 'branch' && s.by === 'intent' && Object.hasOwn(s.cases, intentId),
      );
      if (step)
        return `намерение «${intentId}» упоминается в сценарии «${f.id}» (шаг «${step.id}»): сначала измените сценарий`;
    }
    return null;
  };

  const appendPhrases = async (tx: Sql, intentId: string, texts: string[]) => {
    if (texts.length === 0) return;
    await tx.query(
      `INSERT INTO intent_phrases (intent_id, position, text)
       SELECT $1, (SELECT COALESCE(MAX(position), -1) FROM intent_phrases WHERE intent_id = $1) + ord, t
         FROM unnest($2::text[]) WITH ORDINALITY AS x(t, ord)`,
      [intentId, texts],
    );
  };

  const summaries = async (): Promise<TopicSummary[]> => {
    const topics = await sql.query<Row>(
      `SELECT t.*, p.name AS participant_name FROM topics t LEFT JOIN participants p ON p.id = t.participant_id
        ORDER BY t.retired_at IS NOT NULL, t.title, t.id`,
    );
    const intents = await sql.query<Row>(
      `SELECT i.*, (SELECT count(*) FROM intent_phrases p WHERE p.intent_id = i.id)::int AS phrase_count
         FROM intents i ORDER BY i.retired_at IS NOT NULL, i.id COLLATE "C"`,
    );
    return topics.map((t) => ({
      id: String(t.id),
      title: String(t.title),
      agencyId: str(t.agency_id),
      participantId: str(t.participant_id),
      participantName: str(t.participant_name),
      retired: t.retired_at !== null && t.retired_at !== undefined,
      intents: intents
        .filter((i) => i.topic_id === t.id)
        .map((i) => ({
          id: String(i.id),
          topicId: String(i.topic_id),
          title: String(i.title),
          handling: i.handling as IntentHandling,
          phrases: Number(i.phrase_count),
          retired: i.retired_at !== null && i.retired_at !== undefined,
          mergedInto: str(i.merged_into),
        })),
    }));
  };

  return {
    list: summaries,

    async intent(id) {
      const r = await intentRow(sql, id);
      const phrases = await sql.query<{ text: string }>(
        'SELECT text FROM intent_phrases WHERE intent_id = $1 ORDER BY position',
        [id],
      );
      return {
        id: String(r.id),
        topicId: String(r.topic_id),
        topicTitle: String(r.topic_title),
        topicRetired: r.topic_retired_at != null,
        participantId: str(r.participant_id),
        title: String(r.title),
        handling: r.handling as IntentHandling,
        retired: r.retired_at != null,
        mergedInto: str(r.merged_into),
        phrases: phrases.map((p) => p.text),
      };
    },

    async createTopic(input, by) {
      const id = requiredId(input.id, 'темы');
      const title = requiredTitle(input.title);
      const participant = input.participant ?? by.agency ?? null;
      if (by.agency && participant !== by.agency)
        throw new OtklikError(
          'FORBIDDEN',
          `Учётная запись ${by.login} создаёт темы только своего ведомства («${by.agency}»)`,
        );
      await write(async (tx) => {
        if ((await tx.query('SELECT 1 FROM topics WHERE id = $1', [id])).length > 0)
          throw new OtklikError('CONFLICT', `Тема с кодом «${id}» уже есть`);
        if (
          participant &&
          (await tx.query('SELECT 1 FROM participants WHERE id = $1', [participant])).length === 0
        )
          throw new OtklikError('VALIDATION_FAILED', `Ведомства «${participant}» нет в базе знаний`);
        if (
          input.agency &&
          (await tx.query('SELECT 1 FROM agencies WHERE id = $1', [input.agency])).length === 0
        )
          throw new OtklikError(
            'VALIDATION_FAILED',
            `Уполномоченного лица «${input.agency}» нет в базе знаний`,
          );
        await tx.query('INSERT INTO topics (id, title, agency_id, participant_id) VALUES ($1, $2, $3, $4)', [
          id,
          title,
          input.agency ?? null,
          participant,
        ]);
      });
    },

    async renameTopic(id, title, by) {
      const t = requiredTitle(title);
      await write(async (tx) => {
        mayEdit(await topicRow(tx, id), by);
        await tx.query('UPDATE topics SET title = $2 WHERE id = $1', [id, t]);
      });
    },

    async retireTopic(id, by) {
      await write(async (tx) => {
        const topic = await topicRow(tx, id);
        mayEdit(topic, by);
        if (topic.retired_at != null) return;
        const [menu] = await tx.query<{ menu_id: string; digit: string }>(
          `SELECT menu_id, digit FROM menu_items WHERE action_kind = 'topic' AND action_target = $1
            ORDER BY menu_id, position LIMIT 1`,
          [id],
        );
        if (menu)
          throw new OtklikError(
            'CONFLICT',
            `Тему «${topic.title}» нельзя отправить в архив: на неё ведёт пункт «${menu.digit}» меню «${menu.menu_id}»`,
          );
        const intents = await tx.query<{ id: string }>(
          'SELECT id FROM intents WHERE topic_id = $1 AND retired_at IS NULL ORDER BY id',
          [id],
        );
        for (const i of intents) {
          const why = await neededBy(tx, i.id);
          if (why)
            throw new OtklikError('CONFLICT', `Тему «${topic.title}» нельзя отправить в архив: ${why}`);
        }
        await tx.query('UPDATE topics SET retired_at = $2 WHERE id = $1', [id, now()]);
      });
    },

    async restoreTopic(id, by) {
      await write(async (tx) => {
        mayEdit(await topicRow(tx, id), by);
        await tx.query('UPDATE topics SET retired_at = NULL WHERE id = $1 AND retired_at IS NOT NULL', [id]);
      });
    },

    async createIntent(input, by) {
      const id = requiredId(input.id, 'намерения');
      const title = requiredTitle(input.title);
      const handling = input.handling ?? 'answer';
      if (!['answer', 'operator', 'forward', 'system'].includes(handling))
        throw new OtklikError('VALIDATION_FAILED', `Неизвестный способ обработки «${handling}»`);
      await write(async (tx) => {
        const topic = await topicRow(tx, input.topicId);
        mayEdit(topic, by);
        if (topic.retired_at != null)
          throw new OtklikError('CONFLICT', `Тема «${topic.title}» в архиве: сначала верните её`);
        if ((await tx.query('SELECT 1 FROM intents WHERE id = $1', [id])).length > 0)
          throw new OtklikError('CONFLICT', `Намерение с кодом «${id}» уже есть`);
        await tx.query('INSERT INTO intents (id, topic_id, title, handling) VALUES ($1, $2, $3, $4)', [
          id,
          input.topicId,
          title,
          handling,
        ]);
        const flags = await flagPhrases(tx, id, input.phrases ?? []);
        await appendPhrases(
          tx,
          id,
          flags.filter((f) => f.status !== 'duplicate').map((f) => f.text),
        );
      });
    },

    async renameIntent(id, title, by) {
      const t = requiredTitle(title);
      await write(async (tx) => {
        mayEdit(await intentRow(tx, id), by);
        await tx.query('UPDATE intents SET title = $2 WHERE id = $1', [id, t]);
      });
    },

    async retireIntent(id, by) {
      await write(async (tx) => {
        const intent = await intentRow(tx, id);
        mayEdit(intent, by);
        if (intent.retired_at != null) return;
        const why = await neededBy(tx, id);
        if (why) throw new OtklikError('CONFLICT', `«${intent.title}» нельзя отправить в архив: ${why}`);
        await tx.query('UPDATE intents SET retired_at = $2 WHERE id = $1', [id, now()]);
      });
    },

    async restoreIntent(id, by) {
      await write(async (tx) => {
        const intent = await intentRow(tx, id);
        mayEdit(intent, by);
        if (intent.topic_retired_at != null)
          throw new OtklikError('CONFLICT', `Тема «${intent.topic_title}» в архиве: сначала верните её`);
        await tx.query('UPDATE intents SET retired_at = NULL, merged_into = NULL WHERE id = $1', [id]);
      });
    },

    async mergeIntents(from, into, by) {
      if (from === into)
        throw new OtklikError('VALIDATION_FAILED', 'Намерение нельзя объединить с самим собой');
      return write(async (tx) => {
        const source = await intentRow(tx, from);
        const target = await intentRow(tx, into);
        mayEdit(source, by);
        mayEdit(target, by);
        if (source.retired_at != null || target.retired_at != null || target.topic_retired_at != null)
          throw new OtklikError('CONFLICT', 'Объединять можно только действующие намерения');
        const why = await neededBy(tx, from);
        if (why)
          throw new OtklikError(
            'CONFLICT',
            `«${source.title}» нельзя объединить с «${target.title}»: ${why}`,
          );
        const phrases = await tx.query<{ text: string }>(
          'SELECT text FROM intent_phrases WHERE intent_id = $1 ORDER BY position',
          [from],
        );
        const have = new Set(
          (
            await tx.query<{ text: string }>('SELECT text FROM intent_phrases WHERE intent_id = $1', [into])
          ).map((p) => phraseKey(p.text)),
        );
        const moved: string[] = [];
        for (const p of phrases) {
          const key = phraseKey(p.text);
          if (have.has(key)) continue;
          have.add(key);
          moved.push(p.text);
        }
        await appendPhrases(tx, into, moved);
        await tx.query('DELETE FROM intent_phrases WHERE intent_id = $1', [from]);
        const retired = await tx.query(
          `UPDATE answer_versions SET status = 'retired', retired_at = $2
            WHERE intent_id = $1 AND status <> 'retired' RETURNING version`,
          [from, now()],
        );
        await tx.query('UPDATE intents SET retired_at = $2, merged_into = $3 WHERE id = $1', [
          from,
          now(),
          into,
        ]);
        return {
          moved: moved.length,
          dropped: phrases.length - moved.length,
          answersRetired: retired.length,
        };
      });
    },

    checkPhrases: (intentId, phrases) =>
      sql.transaction(async (tx) => {
        await intentRow(tx, intentId);
        return flagPhrases(tx, intentId, phrases);
      }),

    async addPhrases(intentId, phrases, by, o = {}) {
      return write(async (tx) => {
        const intent = await intentRow(tx, intentId);
        mayEdit(intent, by);
        const flags = await flagPhrases(tx, intentId, phrases);
        const result: AddPhrasesResult = { added: [], skipped: [], needsConfirmation: [] };
        for (const f of flags) {
          if (f.status === 'duplicate') result.skipped.push(f.text);
          else if (f.status === 'other_intent' && !o.confirm)
            result.needsConfirmation.push({ text: f.text, intent: f.intent, intentTitle: f.intentTitle });
          else result.added.push(f.text);
        }
        await appendPhrases(tx, intentId, result.added);
        return result;
      });
    },

    async removePhrase(intentId, text, by) {
      return write(async (tx) => {
        mayEdit(await intentRow(tx, intentId), by);
        const gone = await tx.query(
          'DELETE FROM intent_phrases WHERE intent_id = $1 AND text = $2 RETURNING position',
          [intentId, text],
        );
        return gone.length > 0;
      });
    },
  };
}
