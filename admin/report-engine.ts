/**
 * The report engine (admin/reports/call-report.ts buildCallReport) as the background runs and the mailed
 * reports call it: bound to its store, KB and norm, its progress a share of the period's days done.
 */

import type { BuildReport } from './report-runs.js';
import { buildCallReport, type CallReportDeps } from './reports/call-report.js';

export function engineBuild(deps: Omit<CallReportDeps, 'now'> & { now?: () => Date }): BuildReport {
  const bound: CallReportDeps = { ...deps, now: deps.now ?? (() => new Date()) };
  return (req, onProgress) =>
    buildCallReport(bound, req, (p) => onProgress?.(p.totalDays ? p.doneDays / p.totalDays : 1));
}
