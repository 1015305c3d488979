/**
 * Quality control of the calls part: supervisors' scores of a call against the knowledge base's checklist
 * (call_scores, migration 0321), and the figures per operator and per topic read from the call records,
 * their scores and the callers' surveys. The checklist itself is the KB's: the caller of saveCallScore passes
 * the items as they stand, and each score keeps its own copy of them.
 */
import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';

/** One item of the checklist as it was given, with the points the scorer gave. */
export interface ScoredItem {
  id: string;
  title: string;
  kind: 'scale' | 'yes_no';
  weight: number;
  points: number;
}

export interface CallScore {
  id: string;
  callId: string;
  operatorId: string | null;
  scorer: string;
  items: ScoredItem[];
  /** Points given over points possible, in percent (two decimals). */
  total: number;
  comment: string | null;
  at: Date;
}

/** The total in percent; throws VALIDATION_FAILED on points outside an item's range. */
export function scoreTotal(items: ScoredItem[]): number {
  if (items.length === 0) throw new OtklikError('VALIDATION_FAILED', 'Оценка без пунктов чек-листа');
  let given = 0;
  let possible = 0;
  for (const i of items) {
    const ok =
      Number.isInteger(i.points) &&
      (i.kind === 'yes_no' ? i.points === 0 || i.points === i.weight : i.points >= 0 && i.points <= i.weight);
    if (!ok)
      throw new OtklikError(
        'VALIDATION_FAILED',
        i.kind === 'yes_no'
          ? `Пункт «${i.title}»: да (${i.weight}) или нет (0), а не ${i.points}`
          : `Пункт «${i.title}»: от 0 до ${i.weight} баллов, а не ${i.points}`,
      );
    given += i.points;
    possible += i.weight;
  }
  return Math.round((given / possible) * 10000) / 100;
}

function toScore(r: Record<string, unknown>): CallScore {
  return {
    id: String(r.id),
    callId: r.call_id as string,
    operatorId: (r.operator_id as string | null) ?? null,
    scorer: r.scorer as string,
    items: r.items as ScoredItem[],
    total: Number(r.total),
    comment: (r.comment as string | null) ?? null,
    at: r.at as Date,
  };
}

/** Stores a supervisor's score of a call; the operator is the one on the call's record. */
export async function saveCallScore(
  sql: Sql,
  s: { callId: string; scorer: string; items: ScoredItem[]; comment: string | null; at: Date },
): Promise<CallScore> {
  const total = scoreTotal(s.items);
  const rows = await sql.query<Record<string, unknown>>(
    `INSERT INTO call_scores (call_id, operator_id, scorer, items, total, comment, at)
     SELECT id, operator_id, $2, $3::jsonb, $4, $5, $6 FROM calls WHERE id = $1
     RETURNING *`,
    [s.callId, s.scorer, JSON.stringify(s.items), total, s.comment?.trim() || null, s.at],
  );
  if (!rows[0]) throw new OtklikError('NOT_FOUND', `Звонок ${s.callId} не найден`);
  return toScore(rows[0]);
}

/** A call's scores, oldest first. */
export async function callScores(sql: Sql, callId: string): Promise<CallScore[]> {
  const rows = await sql.query<Record<string, unknown>>(
    'SELECT * FROM call_scores WHERE call_id = $1 ORDER BY at, id',
    [callId],
  );
  return rows.map(toScore);
}

/** A caller's survey score with where it was taken (after the bot, an operator or an agency) and the operator. */
export interface SurveyResult {
  callId: string;
  score: number;
  after: 'bot' | 'operator' | 'agency';
  operatorId: string | null;
  at: Date;
}

export async function getSurvey(sql: Sql, callId: string): Promise<SurveyResult | null> {
  const rows = await sql.query<Record<string, unknown>>('SELECT * FROM survey_results WHERE call_id = $1', [
    callId,
  ]);
  const r = rows[0];
  if (!r) return null;
  return {
    callId: r.call_id as string,
    score: Number(r.score),
    after: r.after as SurveyResult['after'],
    operatorId: (r.operator_id as string | null) ?? null,
    at: r.at as Date,
  };
}

export interface OperatorQuality {
  operatorId: string;
  operatorName: string | null;
  /** Calls and chats the operator took that started in the period. */
  calls: number;
  /** Of those, how many a supervisor scored, and their share (0..1). */
  scored: number;
  scoredShare: number;
  /** Mean of the scores' totals (percent), null when none. */
  averageScore: number | null;
  surveys: number;
  surveyAverage: number | null;
}

type Range = { from: Date; to: Date };

/** Per operator: their calls in [from, to), the share scored, the mean score and the callers' survey mean. */
export async function operatorQualityFigures(sql: Sql, range: Range): Promise<OperatorQuality[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT c.operator_id, max(c.operator_name) AS operator_name, count(*)::int8 AS calls,
            count(sc.call_id)::int8 AS scored, round(avg(sc.total), 2)::float8 AS average_score,
            count(s.score)::int8 AS surveys, round(avg(s.score), 2)::float8 AS survey_average
       FROM calls c
       LEFT JOIN (SELECT call_id, avg(total) AS total FROM call_scores GROUP BY call_id) sc ON sc.call_id = c.id
       LEFT JOIN survey_results s ON s.call_id = c.id
      WHERE c.operator_id IS NOT NULL AND c.started_at >= $1 AND c.started_at < $2
      GROUP BY c.operator_id ORDER BY c.operator_id`,
    [range.from, range.to],
  );
  return rows.map((r) => {
    const calls = Number(r.calls);
    const scored = Number(r.scored);
    return {
      operatorId: r.operator_id as string,
      operatorName: (r.operator_name as string | null) ?? null,
      calls,
      scored,
      scoredShare: calls === 0 ? 0 : scored / calls,
      averageScore: r.average_score === null ? null : Number(r.average_score),
      surveys: Number(r.surveys),
      surveyAverage: r.survey_average === null ? null : Number(r.survey_average),
    };
  });
}

export interface TopicQuality {
  /** The KB topic of the call, null for calls without one. */
  topicId: string | null;
  scored: number;
  averageScore: number | null;
}

/** Score figures per topic of the scored calls that started in [from, to). */
export async function topicQualityFigures(sql: Sql, range: Range): Promise<TopicQuality[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT c.topic_id, count(*)::int8 AS scored, round(avg(sc.total), 2)::float8 AS average_score
       FROM calls c JOIN (SELECT call_id, avg(total) AS total FROM call_scores GROUP BY call_id) sc
         ON sc.call_id = c.id
      WHERE c.started_at >= $1 AND c.started_at < $2
      GROUP BY c.topic_id ORDER BY c.topic_id NULLS LAST`,
    [range.from, range.to],
  );
  return rows.map((r) => ({
    topicId: (r.topic_id as string | null) ?? null,
    scored: Number(r.scored),
    averageScore: r.average_score === null ? null : Number(r.average_score),
  }));
}
