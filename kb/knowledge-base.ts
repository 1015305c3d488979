import type { Sql } from '../store/sql.js';
import { DEFAULT_REGION_TIMEZONE } from './document.js';
import { isOpen, type ProductionCalendar, type Schedule, toCalendar } from './hours.js';
import {
  agencyTermsFromRow,
  type InquiryTerms,
  mergeTerms,
  regionTermsFromRow,
  termsFromDoc,
} from './inquiry-terms.js';
import { flowForNumber } from './numbers.js';
import { listOutcomes, type Outcome } from './outcomes.js';
import { type OperatorScript, operatorScripts } from './scripts.js';
import { actionFromRow } from './store-io.js';
import type {
  Agency,
  AnswerHandling,
  Incident,
  Intent,
  IntentHandling,
  KnowledgeBase,
  Menu,
  OpenState,
  ServedAnswer,
  Topic,
  TopicId,
} from './types.js';
import type { Weekday } from './zoned-time.js';

/**
 * The read API of the knowledge base over the store (kb/types.ts). Reads go to the database every time, so
 * an edit made by the admin UI or an import is seen at once by every process sharing the store.
 */
export interface KnowledgeBaseReader extends KnowledgeBase {
  calendar(): Promise<ProductionCalendar>;
  schedule(id: string): Promise<Schedule | null>;
  topics(): Promise<Topic[]>;
  agencies(): Promise<Agency[]>;
  /**
   * The intents that are trained, classified and served: a retired intent, or one of a retired topic
   * (kb/topic-editor.ts), only with `withRetired` (titles of past calls).
   */
  intents(opts?: { withRetired?: boolean }): Promise<Intent[]>;
  /** The organisations of the KB (agencies and the line's own operator), whose staff accounts may belong to one. */
  participants(): Promise<Array<{ id: string; name: string }>>;
  /** How an operator may close a conversation (kb_outcomes), in order, without the retired ones. */
  outcomes(opts?: { withRetired?: boolean }): Promise<Outcome[]>;
  /**
   * The terms of the agreement for inquiries passed to `agencyId` (kb/inquiry-terms.ts): the agency's own
   * fields over the region's default; the region's for no agency or one the KB does not know.
   */
  inquiryTerms(agencyId?: string | null): Promise<InquiryTerms>;
  /** Approved scripts for the operator desk's search. */
  scripts(filter?: { q?: string; topic?: string }): Promise<OperatorScript[]>;
}

type Row = Record<string, unknown>;

/** An intent (`i`) of its topic (`t`) that is in service: neither is retired. */
const activeIntent = 'i.retired_at IS NULL AND t.retired_at IS NULL';

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toAgency(r: Row): Agency {
  return {
    id: String(r.id),
    name: String(r.name),
    participantId: str(r.participant_id),
    forwardNumber: str(r.forward_number),
    contactPerson: str(r.contact_person),
    email: str(r.email),
    scheduleId: String(r.schedule_id),
  };
}

function toTopic(r: Row): Topic {
  return {
    id: r.id as TopicId,
    title: String(r.title),
    agencyId: str(r.agency_id),
    participantId: str(r.participant_id),
  };
}

function toIncident(r: Row): Incident {
  return {
    id: String(r.id),
    level: r.level as Incident['level'],
    title: String(r.title),
    announcement: String(r.announcement),
    startsAt: r.starts_at as Date,
    endsAt: (r.ends_at as Date | null) ?? null,
    topicId: (r.topic_id as TopicId | null) ?? null,
  };
}

export function createKnowledgeBase(sql: Sql): KnowledgeBaseReader {
  const one = async (text: string, params: unknown[]) => (await sql.query<Row>(text, params))[0] ?? null;

  const timezone = async () =>
    String((await one('SELECT timezone FROM kb_meta WHERE id = 1', []))?.timezone ?? DEFAULT_REGION_TIMEZONE);

  const calendar = async () => {
    const rows = await sql.query<Row>('SELECT day, kind, title, works_as FROM calendar_days');
    return toCalendar(
      rows.map((r) => ({
        date: String(r.day),
        kind: r.kind as 'holiday',
        title: String(r.title),
        worksAs: (r.works_as as Weekday | null) ?? null,
      })),
    );
  };

  const schedule = async (id: string): Promise<Schedule | null> => {
    const r = await one(
      'SELECT s.*, m.timezone AS region_timezone FROM schedules s CROSS JOIN kb_meta m WHERE m.id = 1 AND s.id = $1',
      [id],
    );
    if (!r) return null;
    return {
      id: String(r.id),
      title: String(r.title),
      alwaysOpen: Boolean(r.always_open),
      timezone: String(r.timezone ?? r.region_timezone),
      observeCalendar: Boolean(r.observe_calendar),
      weekly: r.weekly as Schedule['weekly'],
    };
  };

  const intentsWhere = async (where: string, params: unknown[]): Promise<Intent[]> => {
    const rows = await sql.query<Row>(
      `SELECT i.id, i.topic_id, i.title, i.handling,
              COALESCE((SELECT json_agg(p.text ORDER BY p.position) FROM intent_phrases p WHERE p.intent_id = i.id), '[]') AS phrases
         FROM intents i JOIN topics t ON t.id = i.topic_id ${where} ORDER BY i.id COLLATE "C"`,
      params,
    );
    return rows.map((r) => ({
      id: String(r.id),
      topicId: r.topic_id as TopicId,
      title: String(r.title),
      handling: r.handling as IntentHandling,
      phrases: r.phrases as string[],
    }));
  };

  return {
    async version() {
      const r = await one('SELECT revision, stamp FROM kb_meta WHERE id = 1', []);
      return r ? `r${r.revision}-${String(r.stamp).slice(0, 8)}` : 'r0';
    },
    intents: (opts) => intentsWhere(opts?.withRetired ? '' : `WHERE ${activeIntent}`, []),
    async intent(id) {
      return (await intentsWhere(`WHERE i.id = $1 AND ${activeIntent}`, [id]))[0] ?? null;
    },
    async topic(id) {
      const r = await one('SELECT * FROM topics WHERE id = $1', [id]);
      return r ? toTopic(r) : null;
    },
    async topics() {
      return (await sql.query<Row>('SELECT * FROM topics ORDER BY id COLLATE "C"')).map(toTopic);
    },
    async agency(id) {
      const r = await one('SELECT * FROM agencies WHERE id = $1', [id]);
      return r ? toAgency(r) : null;
    },
    async agencies() {
      return (await sql.query<Row>('SELECT * FROM agencies ORDER BY id COLLATE "C"')).map(toAgency);
    },
    async participants() {
      return sql.query<{ id: string; name: string }>(
        'SELECT id, name FROM participants ORDER BY id COLLATE "C"',
      );
    },
    async approvedAnswer(intentId): Promise<ServedAnswer | null> {
      // Only the approved version: drafts, pending and retired scripts are never served.
      // Nor the script of a retired intent (or of an intent of a retired topic).
      const r = await one(
        `SELECT a.id, a.intent_id, a.version, a.speech, a.chat, a.screen, a.handling, a.approved_by, a.approved_at
           FROM answer_versions a JOIN intents i ON i.id = a.intent_id JOIN topics t ON t.id = i.topic_id
          WHERE a.intent_id = $1 AND a.status = 'approved' AND ${activeIntent}`,
        [intentId],
      );
      if (!r) return null;
      const version = Number(r.version);
      return {
        intentId: String(r.intent_id),
        answerId: String(r.id),
        version,
        versionTag: `${r.intent_id}@v${version}`,
        speech: String(r.speech),
        chat: str(r.chat),
        screen: String(r.screen),
        handling: String(r.handling) as AnswerHandling,
        approvedBy: String(r.approved_by),
        approvedAt: r.approved_at as Date,
      };
    },
    async prompt(id, form = 'speech') {
      const r = await one('SELECT text, chat FROM prompts WHERE id = $1', [id]);
      return str(form === 'chat' ? (r?.chat ?? r?.text) : r?.text);
    },
    async menu(id = 'main'): Promise<Menu | null> {
      const m = await one('SELECT id, prompt_id FROM menus WHERE id = $1', [id]);
      if (!m) return null;
      const items = await sql.query<Row>('SELECT * FROM menu_items WHERE menu_id = $1 ORDER BY position', [
        id,
      ]);
      return {
        id: String(m.id),
        promptId: String(m.prompt_id),
        items: items.map((i) => {
          const a = actionFromRow(String(i.action_kind), String(i.action_target));
          const action =
            a.kind === 'topic'
              ? { kind: a.kind, topicId: a.topic as TopicId }
              : a.kind === 'queue'
                ? { kind: a.kind, queue: a.queue }
                : a.kind === 'forward'
                  ? { kind: a.kind, agencyId: a.agency }
                  : a.kind === 'message'
                    ? { kind: a.kind, promptId: a.prompt }
                    : { kind: a.kind, menuId: a.menu };
          return { digit: String(i.digit), label: String(i.label), keywords: i.keywords as string[], action };
        }),
      };
    },
    async activeIncidents(at) {
      const rows = await sql.query<Row>(
        `SELECT * FROM incidents WHERE starts_at <= $1 AND (ends_at IS NULL OR ends_at > $1)
            AND (awaits_intent IS NULL OR EXISTS (SELECT 1 FROM answer_versions a
                  WHERE a.intent_id = incidents.awaits_intent AND a.status = 'approved'))
          ORDER BY CASE level WHEN 'federal' THEN 0 ELSE 1 END, starts_at, id`,
        [at],
      );
      return rows.map(toIncident);
    },
    async agencyOpen(agencyId, at): Promise<OpenState> {
      const a = await one('SELECT schedule_id FROM agencies WHERE id = $1', [agencyId]);
      const s = a ? await schedule(String(a.schedule_id)) : null;
      if (!s) return { open: false, nextChange: null };
      return isOpen(s, s.alwaysOpen || !s.observeCalendar ? new Map() : await calendar(), at);
    },
    async flow(id) {
      return (await one('SELECT document FROM flows WHERE id = $1', [id]))?.document ?? null;
    },
    flowForNumber: (dialled) => flowForNumber(sql, dialled),
    async vocabulary() {
      const rows = await sql.query<{ text: string }>(
        `SELECT term AS text FROM vocabulary
         UNION ALL SELECT title FROM topics
         UNION ALL SELECT k.value FROM menu_items, jsonb_array_elements_text(keywords) AS k(value)
         UNION ALL SELECT label FROM menu_items`,
      );
      const words = new Set<string>();
      for (const { text } of rows) {
        const term = text.toLowerCase().trim();
        if (term) words.add(term);
      }
      return [...words].sort();
    },
    async inquiryTerms(agencyId) {
      const region = termsFromDoc(regionTermsFromRow(await one('SELECT * FROM kb_meta WHERE id = 1', [])));
      const agency = agencyId ? await one('SELECT * FROM agencies WHERE id = $1', [agencyId]) : null;
      return mergeTerms(region, agency ? agencyTermsFromRow(agency) : null);
    },
    outcomes: (opts) => listOutcomes(sql, opts),
    scripts: (filter) => operatorScripts(sql, filter),
    timezone,
    calendar,
    schedule,
  };
}
