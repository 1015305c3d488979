/**
 * The call report's figures: what is counted of one call, and how the counts of a group of calls become its
 * row. Pure code; call-report.ts reads the facts from the owning parts' report views.
 */
import { percentile } from '../../core/stats.js';

/** One call or chat as the report sees it: facts from calls_report, telephony_report_* and inquiries_report. */
export interface CallFacts {
  callId: string;
  /** YYYY-MM-DD and 0..23: the region's local day and hour of the call's start. */
  day: string;
  hour: number;
  channel: 'phone' | 'chat';
  direction: 'incoming' | 'outgoing';
  outcome: string | null;
  sipOutcome: string | null;
  topicId: string | null;
  intentId: string | null;
  operatorId: string | null;
  operatorName: string | null;
  surveyScore: number | null;
  queue: QueueFacts | null;
  inquiries: InquiryFacts[];
  callbacks: Array<{ attempts: number; outcome: string | null }>;
}

export interface QueueFacts {
  queueId: string;
  queueName: string | null;
  /** The queue's own norm; null: the configured default (QUEUE_WAIT_NORM_MS). */
  queueNormMs: number | null;
  state: string;
  waitMs: number | null;
  talkMs: number | null;
  closed: boolean;
  operatorId: string | null;
  operatorName: string | null;
}

export interface InquiryFacts {
  agencyId: string | null;
  intentId: string | null;
  /** Passed to the agency by its 15-minute deadline (null: not yet, the deadline not yet passed). */
  sentOnTime: boolean | null;
  /** The agency answered by its deadline (null: no answer yet, the deadline not yet passed). */
  answeredOnTime: boolean | null;
}

/**
 * The figures of one row or of the total. The count figures (COUNT_FIGURES) of a breakdown's rows add up to
 * the total's; the rest are shares and averages of the row's own calls (null where nothing was measured).
 */
export interface CallFigures {
  /** Calls and chats that reached the line (and the line's own answered outgoing calls). */
  offered: number;
  /** Answered by the bot alone: no person, no forward (containment). */
  botOnly: number;
  /** botOnly / offered. */
  containment: number | null;
  /** Handed to people: put in the operators' queue. */
  escalated: number;
  answeredByOperators: number;
  forwarded: number;
  emergencies: number;
  /** The caller left while waiting for a person (or before the bot finished, for a chat). */
  abandoned: number;
  /** Abandoned after waiting longer than the norm («потерянные вызовы»). */
  lostPastNorm: number;
  /** Answered by an operator within the norm. */
  answeredWithinNorm: number;
  /** answeredWithinNorm / escalated. */
  serviceLevel: number | null;
  /** Average speed of answer: the mean wait of the calls operators answered. */
  asaMs: number | null;
  /** Average handling time: the mean talk of the operators' closed conversations. */
  ahtMs: number | null;
  avgWaitMs: number | null;
  p90WaitMs: number | null;
  inquiries: number;
  inquiriesSentOnTime: number;
  inquiriesSentLate: number;
  inquiriesAnsweredOnTime: number;
  inquiriesAnsweredLate: number;
  /** Callbacks of these calls the line placed (at least one attempt), and those that reached the citizen. */
  callbacksPlaced: number;
  callbacksReached: number;
  surveys: number;
  surveyAverage: number | null;
}

export const COUNT_FIGURES = [
  'offered',
  'botOnly',
  'escalated',
  'answeredByOperators',
  'forwarded',
  'emergencies',
  'abandoned',
  'lostPastNorm',
  'answeredWithinNorm',
  'inquiries',
  'inquiriesSentOnTime',
  'inquiriesSentLate',
  'inquiriesAnsweredOnTime',
  'inquiriesAnsweredLate',
  'callbacksPlaced',
  'callbacksReached',
  'surveys',
] as const satisfies ReadonlyArray<keyof CallFigures>;
export type CountFigure = (typeof COUNT_FIGURES)[number];

/** Russian headings of the figures, in the column order of the CSV and the XLSX. */
export const FIGURE_HEADINGS: ReadonlyArray<[keyof CallFigures, string]> = [
  ['offered', 'Поступило обращений'],
  ['botOnly', 'Решено ботом без оператора'],
  ['containment', 'Доля решённых ботом'],
  ['escalated', 'Передано операторам'],
  ['answeredByOperators', 'Принято операторами'],
  ['forwarded', 'Переадресовано в ведомства'],
  ['emergencies', 'Экстренных'],
  ['abandoned', 'Сброшено'],
  ['lostPastNorm', 'Потеряно сверх норматива ожидания'],
  ['answeredWithinNorm', 'Принято в пределах норматива'],
  ['serviceLevel', 'Уровень обслуживания'],
  ['asaMs', 'Среднее время ответа (ASA), мс'],
  ['ahtMs', 'Среднее время разговора (AHT), мс'],
  ['avgWaitMs', 'Среднее ожидание, мс'],
  ['p90WaitMs', 'Ожидание 90-й перцентиль, мс'],
  ['inquiries', 'Зарегистрировано обращений в ведомства'],
  ['inquiriesSentOnTime', 'Направлено в срок'],
  ['inquiriesSentLate', 'Направлено с опозданием'],
  ['inquiriesAnsweredOnTime', 'Ответ ведомства в срок'],
  ['inquiriesAnsweredLate', 'Ответ ведомства с опозданием'],
  ['callbacksPlaced', 'Обратных звонков совершено'],
  ['callbacksReached', 'Обратных звонков с дозвоном'],
  ['surveys', 'Оценок качества'],
  ['surveyAverage', 'Средняя оценка'],
];

/** Sums of a group of calls, from which its figures are computed. */
export class FigureAccumulator {
  readonly counts: Record<CountFigure, number> = Object.fromEntries(
    COUNT_FIGURES.map((k) => [k, 0]),
  ) as Record<CountFigure, number>;
  private answeredWaitSum = 0;
  private answeredWaits = 0;
  private talkSum = 0;
  private talks = 0;
  private scoreSum = 0;
  readonly waits: number[] = [];

  /** The call's own figures (one call counts once, in one row of a breakdown). */
  addCall(c: CallFacts, normMs: number, inquiries = true): void {
    const n = this.counts;
    const q = c.queue;
    n.offered++;
    const forwarded = c.outcome === 'forwarded' || c.sipOutcome === 'forwarded';
    const byPeople =
      q !== null || c.operatorId !== null || c.outcome === 'escalated' || c.outcome === 'operator';
    if (c.outcome === 'answered' && !byPeople && !forwarded) n.botOnly++;
    if (byPeople) n.escalated++;
    if (forwarded) n.forwarded++;
    if (c.outcome === 'emergency') n.emergencies++;
    const answered = q ? q.state === 'answered' : c.operatorId !== null;
    if (answered) n.answeredByOperators++;
    if (q ? q.state === 'abandoned' : c.outcome === 'abandoned') n.abandoned++;
    if (q && q.waitMs !== null) {
      this.waits.push(q.waitMs);
      if (q.state === 'abandoned' && q.waitMs > normMs) n.lostPastNorm++;
      if (q.state === 'answered') {
        this.answeredWaitSum += q.waitMs;
        this.answeredWaits++;
        if (q.waitMs <= normMs) n.answeredWithinNorm++;
      }
    }
    if (q?.closed && q.talkMs !== null) {
      this.talkSum += q.talkMs;
      this.talks++;
    }
    for (const cb of c.callbacks) {
      if (cb.attempts > 0) n.callbacksPlaced++;
      if (cb.outcome === 'reached') n.callbacksReached++;
    }
    if (c.surveyScore !== null) {
      n.surveys++;
      this.scoreSum += c.surveyScore;
    }
    if (inquiries) for (const i of c.inquiries) this.addInquiry(i);
  }

  /** An inquiry (one per agency) counts in its own agency's row, which may differ from its call's. */
  addInquiry(i: InquiryFacts): void {
    const n = this.counts;
    n.inquiries++;
    if (i.sentOnTime === true) n.inquiriesSentOnTime++;
    if (i.sentOnTime === false) n.inquiriesSentLate++;
    if (i.answeredOnTime === true) n.inquiriesAnsweredOnTime++;
    if (i.answeredOnTime === false) n.inquiriesAnsweredLate++;
  }

  figures(): CallFigures {
    const n = this.counts;
    const share = (a: number, b: number) => (b === 0 ? null : round4(a / b));
    const mean = (sum: number, count: number) => (count === 0 ? null : Math.round(sum / count));
    return {
      ...n,
      containment: share(n.botOnly, n.offered),
      serviceLevel: share(n.answeredWithinNorm, n.escalated),
      asaMs: mean(this.answeredWaitSum, this.answeredWaits),
      ahtMs: mean(this.talkSum, this.talks),
      avgWaitMs: mean(
        this.waits.reduce((a, b) => a + b, 0),
        this.waits.length,
      ),
      p90WaitMs: this.waits.length ? percentile(this.waits, 90) : null,
      surveyAverage: n.surveys === 0 ? null : Math.round((this.scoreSum / n.surveys) * 100) / 100,
    };
  }
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
