/**
 * Mailed reports: the daily report of the region's previous local day and the weekly one of the previous
 * local week (Monday to Sunday), with the report attached as CSV or XLSX, to the addresses supervisors set on
 * the reports page (admin_report_schedules, migration 0319: recipients change with the line's management,
 * without a restart or an administrator). `mailScheduledReports` is a plain async function; the job worker
 * (admin/jobs/worker.ts) runs it on its sweep. Each period is mailed once: its row in admin_report_mailings is
 * claimed before the send, so two nodes or two sweeps never mail it twice; a failed send gives the claim back
 * and the next sweep tries again.
 */
import type { Logger } from '../core/log.js';
import type { Mailer } from '../inquiries/dispatch.js';
import { addDays, weekdays, zonedParts } from '../kb/zoned-time.js';
import type { Sql } from '../store/sql.js';
import type { Breakdown, BuildReport } from './report-runs.js';
import { reportToCsv, reportToXlsx } from './reports/export.js';

export type ScheduleKind = 'daily' | 'weekly';

export interface ReportSchedule {
  kind: ScheduleKind;
  enabled: boolean;
  recipients: string[];
  format: 'csv' | 'xlsx';
  by: Breakdown;
  sendHour: number;
  updatedBy: string | null;
  updatedAt: Date | null;
}

interface ScheduleRow {
  kind: ScheduleKind;
  enabled: boolean;
  recipients: string[];
  format: 'csv' | 'xlsx';
  breakdown: Breakdown;
  send_hour: number;
  updated_by: string | null;
  updated_at: Date | null;
}

const toSchedule = (r: ScheduleRow): ReportSchedule => ({
  kind: r.kind,
  enabled: r.enabled,
  recipients: r.recipients,
  format: r.format,
  by: r.breakdown,
  sendHour: r.send_hour,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

export async function listSchedules(sql: Sql): Promise<ReportSchedule[]> {
  const rows = await sql.query<ScheduleRow>('SELECT * FROM admin_report_schedules ORDER BY kind');
  return rows.map(toSchedule);
}

export async function saveSchedule(
  sql: Sql,
  kind: ScheduleKind,
  s: Pick<ReportSchedule, 'enabled' | 'recipients' | 'format' | 'by' | 'sendHour'>,
  login: string,
  at: Date,
): Promise<ReportSchedule> {
  const [row] = await sql.query<ScheduleRow>(
    `UPDATE admin_report_schedules SET enabled = $2, recipients = $3, format = $4, breakdown = $5, send_hour = $6,
       updated_by = $7, updated_at = $8 WHERE kind = $1 RETURNING *`,
    [
      kind,
      s.enabled,
      [...new Set(s.recipients.map((r) => r.trim().toLowerCase()))],
      s.format,
      s.by,
      s.sendHour,
      login,
      at,
    ],
  );
  return toSchedule(row!);
}

/**
 * The period a schedule would mail at `now`, once the local clock has passed its hour: yesterday for the
 * daily report; the week before the current one (from its Monday's hour on) for the weekly.
 */
export function duePeriod(
  kind: ScheduleKind,
  sendHour: number,
  now: Date,
  timeZone: string,
): { from: string; to: string } | null {
  const local = zonedParts(now, timeZone);
  if (kind === 'daily') {
    if (local.timeOfDayMs < sendHour * 3_600_000) return null;
    const day = addDays(local.date, -1);
    return { from: day, to: day };
  }
  const monday = addDays(local.date, -weekdays.indexOf(local.weekday));
  if (local.date === monday && local.timeOfDayMs < sendHour * 3_600_000) return null;
  return { from: addDays(monday, -7), to: addDays(monday, -1) };
}

/** A claim older than this is a node that died mid-send: the period is mailed again. */
const CLAIM_STALE_MS = 15 * 60_000;

export interface ReportMailDeps {
  sql: Sql;
  mailer: Mailer | null;
  build: BuildReport;
  timeZone: () => Promise<string>;
  log: Logger;
  now?: () => Date;
}

const kindRu: Record<ScheduleKind, string> = { daily: 'ежедневный', weekly: 'еженедельный' };
const dayRu = (d: string) => d.split('-').reverse().join('.');

/** Mails each enabled schedule's due period that has not been mailed; returns the periods sent. */
export async function mailScheduledReports(
  deps: ReportMailDeps,
): Promise<Array<{ kind: ScheduleKind; from: string; to: string }>> {
  const sent: Array<{ kind: ScheduleKind; from: string; to: string }> = [];
  if (!deps.mailer) return sent;
  const now = (deps.now ?? (() => new Date()))();
  const timeZone = await deps.timeZone();
  for (const s of await listSchedules(deps.sql)) {
    if (!s.enabled || s.recipients.length === 0) continue;
    const period = duePeriod(s.kind, s.sendHour, now, timeZone);
    if (!period) continue;
    const claimed = await deps.sql.query(
      `INSERT INTO admin_report_mailings (kind, period_from, period_to, state, recipients, claimed_at)
       VALUES ($1, $2, $3, 'sending', $4, $5)
       ON CONFLICT (kind, period_from) DO UPDATE SET claimed_at = EXCLUDED.claimed_at, recipients = EXCLUDED.recipients
         WHERE admin_report_mailings.state = 'sending' AND admin_report_mailings.claimed_at < $6
       RETURNING kind`,
      [s.kind, period.from, period.to, s.recipients, now, new Date(now.getTime() - CLAIM_STALE_MS)],
    );
    if (claimed.length === 0) continue;
    try {
      const report = await deps.build({ ...period, by: s.by });
      const name = `otklik-122-${period.from}-${period.to}.${s.format}`;
      const content = s.format === 'csv' ? reportToCsv(report) : await reportToXlsx(report);
      const span =
        period.from === period.to ? dayRu(period.from) : `${dayRu(period.from)} — ${dayRu(period.to)}`;
      const calls = report.total.offered;
      await deps.mailer.send({
        to: s.recipients.join(', '),
        subject: `Служба 122: ${kindRu[s.kind]} отчёт за ${span}`,
        text: `Отчёт службы 122 за ${span} (${timeZone}) во вложении.${typeof calls === 'number' ? `\nПоступило за период: ${calls}.` : ''}\n\nПисьмо отправлено автоматически; адреса рассылки меняются на странице «Отчёты».`,
        attachments: [
          {
            filename: name,
            content,
            contentType:
              s.format === 'csv'
                ? 'text/csv; charset=utf-8'
                : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          },
        ],
      });
      await deps.sql.query(
        `UPDATE admin_report_mailings SET state = 'sent', sent_at = $3 WHERE kind = $1 AND period_from = $2`,
        [s.kind, period.from, now],
      );
      sent.push({ kind: s.kind, ...period });
      deps.log.info({ kind: s.kind, ...period, recipients: s.recipients.length }, 'report mailed');
    } catch (err) {
      await deps.sql.query(
        `DELETE FROM admin_report_mailings WHERE kind = $1 AND period_from = $2 AND state = 'sending'`,
        [s.kind, period.from],
      );
      throw err;
    }
  }
  return sent;
}
