import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import { type Outcome, setOutcome } from './outcomes.js';
import { isKbId, kbIdRule } from './sample-intents.js';
import type { AnswerHandling, AnswerStatus, IntentHandling, TopicId } from './types.js';

export const answerHandlings: readonly AnswerHandling[] = ['answer', 'forward', 'inquiry'];

/**
 * Editing the knowledge base piece by piece (the admin UI), with the approval workflow of answer scripts:
 *
 *   draft ──submit──▶ pending_approval ──approve──▶ approved ──retire──▶ retired
 *     ▲                     │ reject                  (approving retires the intent's previous approved one)
 *     └─────────────────────┘
 *   draft ──retire──▶ retired (a draft given up)
 *
 * Only a draft's text can change; an approved script is changed by creating a new version. Any other move
 * raises OtklikError('CONFLICT'). Each operation is one transaction.
 *
 * Approval is the responsible agency's act, so `approve` (and `reject`) check who acts, whatever the role
 * or the channel (API, CLI): the reviewer belongs to the agency (KB participant) of the intent's topic, and
 * an approver is neither the draft's author nor the person who submitted it.
 */
export interface AnswerVersionInfo {
  intentId: string;
  version: number;
  status: AnswerStatus;
  speech: string;
  /** The web chat's text; null: the chat shows `speech`. */
  chat: string | null;
  /** The operator's card (the desk shows it). */
  screen: string;
  handling: AnswerHandling;
  author: string | null;
  createdAt: Date | null;
  submittedAt: Date | null;
  submittedBy: string | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  retiredAt: Date | null;
  note: string | null;
  reviewNote: string | null;
  returnedBy: string | null;
  returnedAt: Date | null;
}

export interface IntentInput {
  id: string;
  topicId: TopicId;
  title: string;
  handling: IntentHandling;
  /** When given, replaces the training phrases. */
  phrases?: string[];
}

export interface DraftInput {
  speech: string;
  /** The web chat's text; empty or absent: the chat shows `speech`. */
  chat?: string | null;
  /** The operator's card. */
  screen: string;
  /** Absent: the approved version's, else forward for a forwarded intent, else answer. */
  handling?: AnswerHandling;
  author: string;
  note?: string | null;
}

/** The person who reviews a script: a staff login and the agency (KB participant id) of that account. */
export interface Reviewer {
  login: string;
  agency: string | null;
}

export interface IntentListing {
  id: string;
  title: string;
  handling: string;
}

export interface KbEditor {
  /** Every intent with how it is handled, for the editors' lists. */
  intents(): Promise<IntentListing[]>;
  upsertIntent(input: IntentInput): Promise<void>;
  setPhrases(intentId: string, phrases: string[]): Promise<void>;
  addPhrases(intentId: string, phrases: string[]): Promise<void>;
  versions(intentId: string): Promise<AnswerVersionInfo[]>;
  createDraft(intentId: string, input: DraftInput): Promise<AnswerVersionInfo>;
  updateDraft(
    intentId: string,
    version: number,
    changes: Partial<Omit<DraftInput, 'author'>>,
  ): Promise<AnswerVersionInfo>;
  submitForApproval(intentId: string, version: number, submittedBy?: string): Promise<AnswerVersionInfo>;
  approve(intentId: string, version: number, approver: Reviewer): Promise<AnswerVersionInfo>;
  reject(intentId: string, version: number, reviewer: Reviewer, reason: string): Promise<AnswerVersionInfo>;
  retire(intentId: string, version: number): Promise<AnswerVersionInfo>;
  /** Creates or changes an operator's close outcome (kb_outcomes). */
  setOutcome(outcome: Outcome): Promise<Outcome>;
}

type Row = Record<string, unknown>;

/** A row of answer_versions as the editors read it. */
export function toInfo(r: Row): AnswerVersionInfo {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const d = (v: unknown) => (v instanceof Date ? v : null);
  return {
    intentId: String(r.intent_id),
    version: Number(r.version),
    status: r.status as AnswerStatus,
    speech: String(r.speech),
    chat: s(r.chat),
    screen: String(r.screen),
    handling: (r.handling ?? 'answer') as AnswerHandling,
    author: s(r.author),
    createdAt: d(r.created_at),
    submittedAt: d(r.submitted_at),
    submittedBy: s(r.submitted_by),
    approvedBy: s(r.approved_by),
    approvedAt: d(r.approved_at),
    retiredAt: d(r.retired_at),
    note: s(r.note),
    reviewNote: s(r.review_note),
    returnedBy: s(r.returned_by),
    returnedAt: d(r.returned_at),
  };
}

function checkHandling(handling: string | undefined): AnswerHandling | undefined {
  if (handling !== undefined && !answerHandlings.includes(handling as AnswerHandling))
    throw new OtklikError('VALIDATION_FAILED', `unknown answer handling "${handling}"`);
  return handling as AnswerHandling | undefined;
}

const chatText = (v: string | null | undefined) => (v?.trim() ? v : null);

function required(value: string | undefined, field: string): string {
  if (value === undefined || value.trim() === '')
    throw new OtklikError('VALIDATION_FAILED', `${field} must not be empty`);
  return value;
}

function cleanPhrases(phrases: string[]): string[] {
  return phrases.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Refuses a reviewer who does not belong to the agency responsible for the intent's topic. */
async function requireTopicAgency(tx: Sql, intentId: string, reviewer: Reviewer): Promise<void> {
  const [topic] = await tx.query<{ title: string; participant_id: string | null; name: string | null }>(
    `SELECT t.title, t.participant_id, p.name FROM intents i JOIN topics t ON t.id = i.topic_id
       LEFT JOIN participants p ON p.id = t.participant_id WHERE i.id = $1`,
    [intentId],
  );
  if (!topic) throw new OtklikError('NOT_FOUND', `no intent "${intentId}" in the knowledge base`);
  if (!reviewer.agency) {
    throw new OtklikError(
      'APPROVER_WITHOUT_AGENCY',
      `Учётная запись ${reviewer.login} не привязана к ведомству: согласовывать скрипты может только представитель ответственного ведомства`,
    );
  }
  if (!topic.participant_id) {
    throw new OtklikError(
      'APPROVER_OTHER_AGENCY',
      `У темы «${topic.title}» не указано ответственное ведомство: согласовать её скрипт некому`,
    );
  }
  if (topic.participant_id !== reviewer.agency) {
    throw new OtklikError(
      'APPROVER_OTHER_AGENCY',
      `Скрипты темы «${topic.title}» согласует ${topic.name ?? topic.participant_id}; учётная запись ${reviewer.login} относится к другому ведомству`,
    );
  }
}

export function createKbEditor(sql: Sql, opts: { now?: () => Date } = {}): KbEditor {
  const now = opts.now ?? (() => new Date());

  const requireIntent = async (tx: Sql, intentId: string) => {
    const rows = await tx.query('SELECT 1 FROM intents WHERE id = $1', [intentId]);
    if (rows.length === 0)
      throw new OtklikError('NOT_FOUND', `no intent "${intentId}" in the knowledge base`);
  };

  /** Locks one version and checks it is in one of the states the move starts from. */
  const lockVersion = async (
    tx: Sql,
    intentId: string,
    version: number,
    from: AnswerStatus[],
    move: string,
  ) => {
    const [row] = await tx.query<Row>(
      'SELECT * FROM answer_versions WHERE intent_id = $1 AND version = $2 FOR UPDATE',
      [intentId, version],
    );
    if (!row) throw new OtklikError('NOT_FOUND', `no version ${version} of the answer to "${intentId}"`);
    if (!from.includes(row.status as AnswerStatus)) {
      throw new OtklikError(
        'CONFLICT',
        `cannot ${move} ${intentId}@v${version}: it is ${row.status} (allowed from: ${from.join(', ')})`,
      );
    }
    return row;
  };

  const update = async (tx: Sql, intentId: string, version: number, set: string, params: unknown[]) => {
    const [row] = await tx.query<Row>(
      `UPDATE answer_versions SET ${set} WHERE intent_id = $1 AND version = $2 RETURNING *`,
      [intentId, version, ...params],
    );
    return toInfo(row!);
  };

  const replacePhrases = async (tx: Sql, intentId: string, phrases: string[]) => {
    await tx.query('DELETE FROM intent_phrases WHERE intent_id = $1', [intentId]);
    const clean = cleanPhrases(phrases);
    if (clean.length === 0) return;
    await tx.query(
      `INSERT INTO intent_phrases (intent_id, position, text)
       SELECT $1, ord - 1, t FROM unnest($2::text[]) WITH ORDINALITY AS x(t, ord)`,
      [intentId, clean],
    );
  };

  return {
    setOutcome: (outcome) => setOutcome(sql, outcome),
    async intents() {
      return sql.query<IntentListing>('SELECT id, title, handling FROM intents ORDER BY id');
    },
    async upsertIntent(input) {
      if (!isKbId(input.id))
        throw new OtklikError('VALIDATION_FAILED', `intent id "${input.id}": ${kbIdRule}`);
      if (!['answer', 'operator', 'forward', 'system'].includes(input.handling)) {
        throw new OtklikError('VALIDATION_FAILED', `unknown handling "${input.handling}"`);
      }
      const title = required(input.title, 'title');
      await sql.transaction(async (tx) => {
        const topic = await tx.query('SELECT 1 FROM topics WHERE id = $1', [input.topicId]);
        if (topic.length === 0)
          throw new OtklikError('NOT_FOUND', `no topic "${input.topicId}" in the knowledge base`);
        await tx.query(
          `INSERT INTO intents (id, topic_id, title, handling) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET topic_id = EXCLUDED.topic_id, title = EXCLUDED.title, handling = EXCLUDED.handling`,
          [input.id, input.topicId, title, input.handling],
        );
        if (input.phrases) await replacePhrases(tx, input.id, input.phrases);
      });
    },

    async setPhrases(intentId, phrases) {
      await sql.transaction(async (tx) => {
        await requireIntent(tx, intentId);
        await replacePhrases(tx, intentId, phrases);
      });
    },

    async addPhrases(intentId, phrases) {
      await sql.transaction(async (tx) => {
        await requireIntent(tx, intentId);
        const existing = await tx.query<{ text: string }>(
          'SELECT text FROM intent_phrases WHERE intent_id = $1 ORDER BY position',
          [intentId],
        );
        const have = existing.map((r) => r.text);
        const added = cleanPhrases(phrases).filter((p) => !have.includes(p));
        if (added.length > 0) await replacePhrases(tx, intentId, [...have, ...new Set(added)]);
      });
    },

    async versions(intentId) {
      const rows = await sql.query<Row>(
        'SELECT * FROM answer_versions WHERE intent_id = $1 ORDER BY version',
        [intentId],
      );
      return rows.map(toInfo);
    },

    async createDraft(intentId, input) {
      const speech = required(input.speech, 'speech');
      const screen = required(input.screen, 'screen');
      const author = required(input.author, 'author');
      const asked = checkHandling(input.handling);
      return sql.transaction(async (tx) => {
        await requireIntent(tx, intentId);
        // Lock the intent row so that two editors creating drafts together get different version numbers.
        const [intent] = await tx.query<{ handling: string }>(
          'SELECT handling FROM intents WHERE id = $1 FOR UPDATE',
          [intentId],
        );
        const [served] = await tx.query<{ handling: string }>(
          `SELECT handling FROM answer_versions WHERE intent_id = $1 AND status = 'approved'`,
          [intentId],
        );
        const handling = asked ?? served?.handling ?? (intent?.handling === 'forward' ? 'forward' : 'answer');
        const [row] = await tx.query<Row>(
          `INSERT INTO answer_versions (intent_id, version, status, speech, screen, author, created_at, note, chat, handling)
           SELECT $1, COALESCE(MAX(version), 0) + 1, 'draft', $2, $3, $4, $5, $6, $7, $8
             FROM answer_versions WHERE intent_id = $1
           RETURNING *`,
          [intentId, speech, screen, author, now(), input.note ?? null, chatText(input.chat), handling],
        );
        return toInfo(row!);
      });
    },

    async updateDraft(intentId, version, changes) {
      return sql.transaction(async (tx) => {
        const row = await lockVersion(tx, intentId, version, ['draft'], 'edit');
        const speech = changes.speech === undefined ? String(row.speech) : required(changes.speech, 'speech');
        const screen = changes.screen === undefined ? String(row.screen) : required(changes.screen, 'screen');
        const note = changes.note === undefined ? row.note : changes.note;
        const chat = changes.chat === undefined ? row.chat : chatText(changes.chat);
        const handling = checkHandling(changes.handling) ?? row.handling;
        return update(
          tx,
          intentId,
          version,
          'speech = $3, screen = $4, note = $5, chat = $6, handling = $7',
          [speech, screen, note, chat, handling],
        );
      });
    },

    async submitForApproval(intentId, version, submittedBy) {
      return sql.transaction(async (tx) => {
        await lockVersion(tx, intentId, version, ['draft'], 'submit');
        return update(
          tx,
          intentId,
          version,
          "status = 'pending_approval', submitted_at = $3, submitted_by = $4, review_note = NULL",
          [now(), submittedBy ?? null],
        );
      });
    },

    async approve(intentId, version, approver) {
      const by = required(approver.login, 'approved_by');
      return sql.transaction(async (tx) => {
        const row = await lockVersion(tx, intentId, version, ['pending_approval'], 'approve');
        if (by === row.author || by === row.submitted_by) {
          throw new OtklikError(
            'APPROVER_IS_AUTHOR',
            `${by} ${by === row.author ? 'написал(а)' : 'отправил(а) на согласование'} версию ${version} скрипта ${intentId}: согласовать её должен другой сотрудник ответственного ведомства`,
          );
        }
        await requireTopicAgency(tx, intentId, approver);
        const at = now();
        // The previous approved script stops being served in the same transaction: never two, never a gap.
        await tx.query(
          `UPDATE answer_versions SET status = 'retired', retired_at = $2 WHERE intent_id = $1 AND status = 'approved'`,
          [intentId, at],
        );
        return update(tx, intentId, version, "status = 'approved', approved_by = $3, approved_at = $4", [
          by,
          at,
        ]);
      });
    },

    async reject(intentId, version, reviewer, reason) {
      const by = required(reviewer.login, 'reviewer');
      const why = required(reason, 'reason');
      return sql.transaction(async (tx) => {
        await lockVersion(tx, intentId, version, ['pending_approval'], 'reject');
        await requireTopicAgency(tx, intentId, reviewer);
        return update(
          tx,
          intentId,
          version,
          "status = 'draft', submitted_at = NULL, submitted_by = NULL, review_note = $3, returned_by = $4, returned_at = $5",
          [why.trim(), by, now()],
        );
      });
    },

    async retire(intentId, version) {
      return sql.transaction(async (tx) => {
        await lockVersion(tx, intentId, version, ['approved', 'draft'], 'retire');
        return update(tx, intentId, version, "status = 'retired', retired_at = $3", [now()]);
      });
    },
  };
}
