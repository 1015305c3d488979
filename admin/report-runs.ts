/**
 * Reports over long periods, computed in the background. A run is a row of `admin_report_runs` (migration
 * 0319): the node that started it computes the report with the report engine, writes its progress as it goes
 * and, at the end, the result (figures only). Any node answers a poll or a download from the row, so a
 * supervisor behind a load balancer sees the same run, and the store needs no Redis: the embedded line has
 * background reports too. A run whose node died stops moving; a poll calls it failed once it has not moved
 * for STALE_MS.
 */
import { randomUUID } from 'node:crypto';
import { OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Sql } from '../store/sql.js';
import { type CallReport, REPORT_BY, type ReportBy } from './reports/call-report.js';

/** The breakdowns are the report engine's own. */
export const breakdowns = REPORT_BY;
export type Breakdown = ReportBy;

export interface ReportRequest {
  from: string;
  to: string;
  by: Breakdown;
  normMs?: number;
}

/** The report engine's answer (buildCallReport). */
export type ReportResult = CallReport;

/** The report engine, bound to its store and time zone: `onProgress` gets the share done, 0 … 1. */
export type BuildReport = (req: ReportRequest, onProgress?: (share: number) => void) => Promise<ReportResult>;

/** The breakdowns the reports page draws as charts, computed with a run's own table. */
export const chartBreakdowns = ['hour', 'topic', 'day'] as const satisfies readonly Breakdown[];

/** What a run keeps: the report asked for and the charts' breakdowns of the same period. */
export interface RunResult {
  report: ReportResult;
  charts: Record<(typeof chartBreakdowns)[number], ReportResult | null>;
}

export interface ReportRun {
  id: string;
  requestedBy: string;
  from: string;
  to: string;
  by: Breakdown;
  state: 'running' | 'done' | 'failed';
  progress: number;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface ReportRunsDeps {
  sql: Sql;
  build: BuildReport;
  log: Logger;
  now?: () => Date;
}

/** A run that has not moved for this long lost its node (a restart): it is failed. */
export const STALE_MS = 10 * 60_000;
/** Finished runs are kept this long for download, then removed when a new run starts. */
export const KEEP_MS = 7 * 86_400_000;
/** Progress is written at most this often (and at the end). */
const PROGRESS_EVERY_MS = 300;

/** Computes the report and its charts, each breakdown once, the progress spread over them. */
export async function computeRun(
  build: BuildReport,
  req: ReportRequest,
  onProgress: (share: number) => void = () => {},
): Promise<RunResult> {
  const wanted = [req.by, ...chartBreakdowns.filter((b) => b !== req.by)];
  const results = new Map<Breakdown, ReportResult | null>();
  for (const [i, by] of wanted.entries()) {
    const step = (share: number) => onProgress((i + Math.min(1, Math.max(0, share))) / wanted.length);
    // A chart the engine cannot break down is left out; the table asked for must be there.
    const result = await build({ ...req, by }, step).catch((err) => {
      if (by === req.by || !(err instanceof OtklikError && err.code === 'VALIDATION_FAILED')) throw err;
      return null;
    });
    results.set(by, result);
    onProgress((i + 1) / wanted.length);
  }
  return {
    report: results.get(req.by)!,
    charts: Object.fromEntries(
      chartBreakdowns.map((b) => [b, results.get(b) ?? null]),
    ) as RunResult['charts'],
  };
}

interface RunRow {
  id: string;
  requested_by: string;
  period_from: string;
  period_to: string;
  breakdown: Breakdown;
  state: ReportRun['state'];
  progress: number;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  result?: RunResult | string | null;
}

/** The columns of a run, its days as text (a driver would read a date at some midnight of its own). */
const COLUMNS = `id, requested_by, to_char(period_from, 'YYYY-MM-DD') AS period_from,
  to_char(period_to, 'YYYY-MM-DD') AS period_to, breakdown, state, progress, error, created_at, updated_at,
  finished_at`;

function toRun(row: RunRow, now: Date): ReportRun {
  const stale = row.state === 'running' && now.getTime() - new Date(row.updated_at).getTime() > STALE_MS;
  return {
    id: row.id,
    requestedBy: row.requested_by,
    from: row.period_from,
    to: row.period_to,
    by: row.breakdown,
    state: stale ? 'failed' : row.state,
    progress: Number(row.progress),
    error: stale ? 'Расчёт прерван (перезапуск сервера); запустите отчёт снова' : row.error,
    createdAt: new Date(row.created_at),
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
  };
}

/**
 * Starts a run and returns it at once; the report is computed in this process after the answer. `done`
 * resolves when the run is finished (tests and the CLI wait on it; the HTTP route does not).
 */
export async function startReportRun(
  deps: ReportRunsDeps,
  login: string,
  req: ReportRequest,
): Promise<{ run: ReportRun; done: Promise<void> }> {
  const now = deps.now ?? (() => new Date());
  const id = randomUUID();
  const at = now();
  await deps.sql.query('DELETE FROM admin_report_runs WHERE created_at < $1', [
    new Date(at.getTime() - KEEP_MS),
  ]);
  const [row] = await deps.sql.query<RunRow>(
    `INSERT INTO admin_report_runs (id, requested_by, period_from, period_to, breakdown, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ${COLUMNS}`,
    [id, login, req.from, req.to, req.by, at],
  );
  // At most one write per PROGRESS_EVERY_MS, and the latest share always written (a trailing write).
  let written = 0;
  let latest = 0;
  let trailing: NodeJS.Timeout | null = null;
  let writing: Promise<unknown> = Promise.resolve();
  const write = () => {
    trailing = null;
    written = Date.now();
    const share = latest;
    writing = writing.then(() =>
      deps.sql
        .query(
          "UPDATE admin_report_runs SET progress = $2, updated_at = $3 WHERE id = $1 AND state = 'running'",
          [id, Math.min(0.99, share), now()],
        )
        .catch((err) => deps.log.warn({ err, run: id }, 'report run: progress not written')),
    );
  };
  const progress = (share: number) => {
    latest = share;
    if (trailing) return;
    const wait = written + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) write();
    else trailing = setTimeout(write, wait);
  };
  const done = (async () => {
    try {
      const result = await computeRun(deps.build, req, progress);
      if (trailing) clearTimeout(trailing);
      await writing;
      await deps.sql.query(
        `UPDATE admin_report_runs SET state = 'done', progress = 1, result = $2::json, updated_at = $3, finished_at = $3
         WHERE id = $1`,
        [id, JSON.stringify(result), now()],
      );
    } catch (err) {
      deps.log.warn({ err, run: id }, 'report run failed');
      if (trailing) clearTimeout(trailing);
      await writing;
      await deps.sql
        .query(
          `UPDATE admin_report_runs SET state = 'failed', error = $2, updated_at = $3, finished_at = $3 WHERE id = $1`,
          [id, (err as Error).message, now()],
        )
        .catch((e) => deps.log.error({ err: e, run: id }, 'report run: failure not written'));
    }
  })();
  return { run: toRun(row!, at), done };
}

/** A run as it stands (with its result once done); NOT_FOUND for an unknown or removed one. */
export async function getReportRun(
  sql: Sql,
  id: string,
  now: Date,
): Promise<{ run: ReportRun; result: RunResult | null }> {
  const [row] = await sql.query<RunRow>(`SELECT ${COLUMNS}, result FROM admin_report_runs WHERE id = $1`, [
    id,
  ]);
  if (!row) throw new OtklikError('NOT_FOUND', 'Такого отчёта нет: он удалён или не запускался');
  const run = toRun(row, now);
  const raw = run.state === 'done' ? row.result : null;
  return { run, result: typeof raw === 'string' ? (JSON.parse(raw) as RunResult) : (raw ?? null) };
}
