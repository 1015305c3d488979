/**
 * The call report engine ([5/7]): the line's figures for a period of the region's local days, broken down by
 * day, hour, topic, intent, agency, participant, queue, operator, channel or direction. It reads the owning
 * parts' report views (calls_report of calls/, telephony_report_queue and telephony_report_callbacks of
 * telephony/, inquiries_report of inquiries/), never their tables, a month of days at a time, and tells
 * `onProgress` after each month so that a long period can be computed in the background with progress.
 *
 * Every call counts once, in one row, on the local day and hour it started: its queue entry, its callbacks,
 * its survey and its inquiries count with it. The one exception is an inquiry in the agency and participant
 * breakdowns: an inquiry is one row per agency, and counts in its own agency's row (the call counts in the
 * row of its first inquiry's agency, else its topic's). So the count figures of the rows add up to the total.
 */
import { OtklikError } from '../../core/errors.js';
import type { KnowledgeBaseReader } from '../../kb/knowledge-base.js';
import { localDay, withinLocalDays } from '../../store/local-days.js';
import type { Sql } from '../../store/sql.js';
import {
  type CallFacts,
  type CallFigures,
  FigureAccumulator,
  type InquiryFacts,
  type QueueFacts,
} from './figures.js';

export type { CallFigures } from './figures.js';
export { COUNT_FIGURES, FIGURE_HEADINGS } from './figures.js';

export type ReportBy =
  | 'day'
  | 'hour'
  | 'topic'
  | 'intent'
  | 'agency'
  | 'participant'
  | 'queue'
  | 'operator'
  | 'channel'
  | 'direction';
export const REPORT_BY: readonly ReportBy[] = [
  'day',
  'hour',
  'topic',
  'intent',
  'agency',
  'participant',
  'queue',
  'operator',
  'channel',
  'direction',
];

/** Russian names of the breakdowns (the heading of the key column). */
export const BY_HEADINGS: Record<ReportBy, string> = {
  day: 'Дата',
  hour: 'Час',
  topic: 'Тема',
  intent: 'Вопрос',
  agency: 'Ведомство',
  participant: 'Участник',
  queue: 'Очередь',
  operator: 'Оператор',
  channel: 'Канал',
  direction: 'Направление',
};

/** The key of the row of calls without a topic, an intent, an agency, a queue or an operator. */
export const NONE_KEY = 'none';
const NONE_LABELS: Record<ReportBy, string> = {
  day: '',
  hour: '',
  topic: 'без темы',
  intent: 'без распознанного вопроса',
  agency: 'без ведомства',
  participant: 'без участника',
  queue: 'без очереди',
  operator: 'без оператора',
  channel: '',
  direction: '',
};

export interface CallReportDeps {
  sql: Sql;
  /** The region's time zone, topics, intents, agencies and participants (labels and the topics' agencies). */
  kb: Pick<KnowledgeBaseReader, 'timezone' | 'topics' | 'intents' | 'agencies' | 'participants'>;
  /** QUEUE_WAIT_NORM_MS: the norm of a queue that has none of its own. */
  defaultNormMs: number;
  /** The time deadlines not yet met are judged at (an inquiry not sent and past its deadline is late). */
  now: () => Date;
}

export interface CallReportQuery {
  /** YYYY-MM-DD, the region's local days, inclusive. */
  from: string;
  to: string;
  by: ReportBy;
  /** A norm for this report instead of each queue's own (lost past the norm, service level). */
  normMs?: number;
}

export interface CallReportProgress {
  doneDays: number;
  totalDays: number;
}

export type CallReportRow = { key: string; label: string } & CallFigures;

export interface CallReport {
  from: string;
  to: string;
  by: ReportBy;
  timezone: string;
  /** The norm asked for; null: each queue's own norm, or QUEUE_WAIT_NORM_MS (`defaultNormMs`) for one without. */
  normMs: number | null;
  /** 'request': normMs above for every call; 'queue': each queue's own norm. */
  normSource: 'request' | 'queue';
  defaultNormMs: number;
  /** Russian: which norm the lost calls and the service level were counted with. */
  normNote: string;
  rows: CallReportRow[];
  total: CallFigures;
}

const DAY_MS = 86_400_000;
/** Days read in one pass: a month's calls in memory at a time. */
const CHUNK_DAYS = 31;

/** Midnight UTC of a calendar day; a day the calendar has not (30 February) is refused. */
export function parseDay(day: string, what = 'Дата'): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day)
    throw new OtklikError(
      'VALIDATION_FAILED',
      `${what}: нет такой даты в календаре «${day}» (нужно ГГГГ-ММ-ДД)`,
    );
  return ms;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Checks a period: both days real, from ≤ to; answers the number of days. */
export function periodDays(from: string, to: string): number {
  const a = parseDay(from, 'Начало периода');
  const b = parseDay(to, 'Конец периода');
  if (a > b) throw new OtklikError('VALIDATION_FAILED', `Начало периода ${from} позже его конца ${to}`);
  return (b - a) / DAY_MS + 1;
}

export async function buildCallReport(
  deps: CallReportDeps,
  query: CallReportQuery,
  onProgress?: (p: CallReportProgress) => void | Promise<void>,
): Promise<CallReport> {
  const { from, to, by } = query;
  if (!REPORT_BY.includes(by))
    throw new OtklikError(
      'VALIDATION_FAILED',
      `Нет такой разбивки отчёта: ${by} (есть ${REPORT_BY.join(', ')})`,
    );
  const totalDays = periodDays(from, to);
  if (query.normMs !== undefined && !(Number.isInteger(query.normMs) && query.normMs > 0))
    throw new OtklikError('VALIDATION_FAILED', 'Норматив ожидания — целое число миллисекунд больше нуля');
  const [timezone, topics, intents, agencies, participants] = await Promise.all([
    deps.kb.timezone(),
    deps.kb.topics(),
    deps.kb.intents(),
    deps.kb.agencies(),
    deps.kb.participants(),
  ]);
  const topicOf = new Map(topics.map((t) => [t.id as string, t]));
  const agencyOf = new Map(agencies.map((a) => [a.id, a]));
  const labels = new Map<string, string>();
  const named = (list: Array<{ id: string; name?: string; title?: string }>) =>
    new Map(list.map((x) => [x.id, x.title ?? x.name ?? x.id]));
  const nameOf: Partial<Record<ReportBy, Map<string, string>>> = {
    topic: named(topics),
    intent: named(intents),
    agency: named(agencies),
    participant: named(participants),
  };
  const participantOfAgency = (id: string | null) => (id ? (agencyOf.get(id)?.participantId ?? null) : null);
  const callAgency = (c: CallFacts) =>
    c.inquiries[0]?.agencyId ?? (c.topicId ? (topicOf.get(c.topicId)?.agencyId ?? null) : null);
  const callParticipant = (c: CallFacts) =>
    participantOfAgency(callAgency(c)) ??
    (c.topicId ? (topicOf.get(c.topicId)?.participantId ?? null) : null);

  const keyOf = (c: CallFacts): string | null => {
    switch (by) {
      case 'day':
        return c.day;
      case 'hour':
        return String(c.hour).padStart(2, '0');
      case 'topic':
        return c.topicId;
      case 'intent':
        return c.intentId ?? c.inquiries[0]?.intentId ?? null;
      case 'agency':
        return callAgency(c);
      case 'participant':
        return callParticipant(c);
      case 'queue':
        if (c.queue) labels.set(c.queue.queueId, c.queue.queueName ?? c.queue.queueId);
        return c.queue?.queueId ?? null;
      case 'operator': {
        const id = c.operatorId ?? c.queue?.operatorId ?? null;
        const name = c.operatorName ?? c.queue?.operatorName;
        if (id && name) labels.set(id, name);
        return id;
      }
      case 'channel':
        return c.channel;
      case 'direction':
        return c.direction;
    }
  };
  const inquiryKey = (i: InquiryFacts) => (by === 'agency' ? i.agencyId : participantOfAgency(i.agencyId));

  const groups = new Map<string, FigureAccumulator>();
  // Rows every report of that breakdown has, in their order, even when empty.
  const fixed: string[] =
    by === 'day'
      ? Array.from({ length: totalDays }, (_, i) => isoDay(parseDay(from) + i * DAY_MS))
      : by === 'hour'
        ? Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'))
        : by === 'channel'
          ? ['phone', 'chat']
          : by === 'direction'
            ? ['incoming', 'outgoing']
            : [];
  for (const k of fixed) groups.set(k, new FigureAccumulator());
  const group = (key: string | null) => {
    const k = key ?? NONE_KEY;
    let g = groups.get(k);
    if (!g) {
      g = new FigureAccumulator();
      groups.set(k, g);
    }
    return g;
  };
  const total = new FigureAccumulator();
  const now = deps.now();
  const splitInquiries = by === 'agency' || by === 'participant';

  const start = parseDay(from);
  for (let done = 0; done < totalDays; done += CHUNK_DAYS) {
    const a = isoDay(start + done * DAY_MS);
    const b = isoDay(start + (Math.min(totalDays, done + CHUNK_DAYS) - 1) * DAY_MS);
    for (const c of await readCalls(deps.sql, timezone, a, b, now)) {
      const normMs = query.normMs ?? c.queue?.queueNormMs ?? deps.defaultNormMs;
      total.addCall(c, normMs);
      group(keyOf(c)).addCall(c, normMs, !splitInquiries);
      if (splitInquiries) for (const i of c.inquiries) group(inquiryKey(i)).addInquiry(i);
    }
    await onProgress?.({ doneDays: Math.min(totalDays, done + CHUNK_DAYS), totalDays });
  }

  const fixedLabel = (k: string) =>
    by === 'hour'
      ? `${k}:00–${String(Number(k) + 1).padStart(2, '0')}:00`
      : by === 'channel'
        ? k === 'phone'
          ? 'телефон'
          : 'чат'
        : by === 'direction'
          ? k === 'incoming'
            ? 'входящие'
            : 'исходящие'
          : k;
  const labelOf = (k: string) =>
    k === NONE_KEY
      ? NONE_LABELS[by]
      : fixed.length
        ? fixedLabel(k)
        : (nameOf[by]?.get(k) ?? labels.get(k) ?? k);
  let rows: CallReportRow[] = [...groups].map(([key, g]) => ({ key, label: labelOf(key), ...g.figures() }));
  if (!fixed.length) {
    rows = rows.sort((x, y) =>
      x.key === NONE_KEY ? 1 : y.key === NONE_KEY ? -1 : x.label.localeCompare(y.label, 'ru'),
    );
  }
  return {
    from,
    to,
    by,
    timezone,
    normMs: query.normMs ?? null,
    normSource: query.normMs === undefined ? 'queue' : 'request',
    defaultNormMs: deps.defaultNormMs,
    normNote:
      query.normMs === undefined
        ? `норматив ожидания каждой очереди; где он не задан — ${seconds(deps.defaultNormMs)} (QUEUE_WAIT_NORM_MS)`
        : `норматив ожидания ${seconds(query.normMs)} (задан для отчёта)`,
    rows,
    total: total.figures(),
  };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} с`;

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** The calls that started in the local days a..b with their queue entry, inquiries and callbacks. */
async function readCalls(sql: Sql, timezone: string, a: string, b: string, now: Date): Promise<CallFacts[]> {
  const params = [timezone, a, b];
  const ofPeriod = `SELECT call_id FROM calls_report WHERE ${withinLocalDays('started_at')}`;
  const [calls, queue, inquiries, callbacks] = await Promise.all([
    sql.query<Row>(
      `SELECT call_id, to_char(${localDay('started_at')}, 'YYYY-MM-DD') AS day,
              extract(hour FROM started_at AT TIME ZONE $1)::int AS hour, channel, direction, outcome,
              sip_outcome, topic_id, intent_id, operator_id, operator_name, survey_score
         FROM calls_report WHERE ${withinLocalDays('started_at')}
        ORDER BY started_at, call_id`,
      params,
    ),
    sql.query<Row>(
      `SELECT call_id, queue_id, queue_name, queue_wait_norm_ms, state, wait_ms, talk_ms, closed_at,
              operator_id, operator_name
         FROM telephony_report_queue WHERE call_id IN (${ofPeriod})`,
      params,
    ),
    sql.query<Row>(
      `SELECT call_id, agency_id, intent_id, dispatch_due_at, dispatched_at, answer_due_at, answered_at
         FROM inquiries_report WHERE call_id IN (${ofPeriod}) ORDER BY inquiry_id`,
      params,
    ),
    sql.query<Row>(
      `SELECT call_id, attempts, outcome FROM telephony_report_callbacks
        WHERE call_id IN (${ofPeriod}) ORDER BY callback_id`,
      params,
    ),
  ]);
  const queueOf = new Map<string, QueueFacts>();
  for (const q of queue) {
    queueOf.set(String(q.call_id), {
      queueId: String(q.queue_id),
      queueName: str(q.queue_name),
      queueNormMs: num(q.queue_wait_norm_ms),
      state: String(q.state),
      waitMs: num(q.wait_ms),
      talkMs: num(q.talk_ms),
      closed: q.closed_at !== null,
      operatorId: str(q.operator_id),
      operatorName: str(q.operator_name),
    });
  }
  const onTime = (done: unknown, due: unknown): boolean | null => {
    const dueMs = (due as Date).getTime();
    if (done instanceof Date) return done.getTime() <= dueMs;
    return now.getTime() > dueMs ? false : null;
  };
  const inquiriesOf = new Map<string, InquiryFacts[]>();
  for (const i of inquiries) {
    const list = inquiriesOf.get(String(i.call_id)) ?? [];
    list.push({
      agencyId: str(i.agency_id),
      intentId: str(i.intent_id),
      sentOnTime: onTime(i.dispatched_at, i.dispatch_due_at),
      answeredOnTime: onTime(i.answered_at, i.answer_due_at),
    });
    inquiriesOf.set(String(i.call_id), list);
  }
  const callbacksOf = new Map<string, CallFacts['callbacks']>();
  for (const cb of callbacks) {
    const list = callbacksOf.get(String(cb.call_id)) ?? [];
    list.push({ attempts: Number(cb.attempts), outcome: str(cb.outcome) });
    callbacksOf.set(String(cb.call_id), list);
  }
  return calls.map((r) => {
    const id = String(r.call_id);
    return {
      callId: id,
      day: String(r.day),
      hour: Number(r.hour),
      channel: r.channel === 'chat' ? 'chat' : 'phone',
      direction: r.direction === 'outgoing' ? 'outgoing' : 'incoming',
      outcome: str(r.outcome),
      sipOutcome: str(r.sip_outcome),
      topicId: str(r.topic_id),
      intentId: str(r.intent_id),
      operatorId: str(r.operator_id),
      operatorName: str(r.operator_name),
      surveyScore: num(r.survey_score),
      queue: queueOf.get(id) ?? null,
      inquiries: inquiriesOf.get(id) ?? [],
      callbacks: callbacksOf.get(id) ?? [],
    };
  });
}
