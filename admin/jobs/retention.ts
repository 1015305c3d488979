/**
 * The retention job (152-FZ): personal data is kept for its kind's period, then removed or anonymized by the
 * part that owns it: calls (turns, notes, numbers: calls/retention.ts), telephony (recordings with their
 * files, the queue's and callbacks' copies: telephony/retention.ts), inquiries (callback numbers:
 * inquiries/retention.ts). This coordinator only runs their steps in batches and audits what they did: one
 * `retention.remove` row per batch (the kind, counts and the call ids, never the data) and one
 * `retention.run` row with the totals. Calls on legal hold (calls/legal-hold.ts) keep everything. The time
 * is a parameter: the worker passes its clock, the CLI its own or `--now`, tests a fixed one.
 */
import { heldCallIds } from '../../calls/legal-hold.js';
import { removeOldCallerNumbers, removeOldChatLogs, removeOldTranscripts } from '../../calls/retention.js';
import { removeOldInquiryNumbers } from '../../inquiries/retention.js';
import type { RetentionCursor, RetentionFn } from '../../store/retention.js';
import type { Sql } from '../../store/sql.js';
import {
  removeOldCallbackNumbers,
  removeOldQueueChatLogs,
  removeOldQueueNumbers,
  removeOldQueueTranscripts,
  removeOldRecordings,
} from '../../telephony/retention.js';
import { writeAudit } from '../audit.js';

export type RetentionKind = 'recordings' | 'transcripts' | 'chats' | 'callerNumbers';
export const RETENTION_KINDS: readonly RetentionKind[] = [
  'recordings',
  'transcripts',
  'chats',
  'callerNumbers',
];

/** Days each kind is kept (config `retention.*Days`); 0 keeps the kind forever. */
export type RetentionPolicy = Record<`${RetentionKind}Days`, number>;

/** The audit log's author of the job's rows. */
export const RETENTION_LOGIN = 'system:retention';
/** Records per batch: one audit row each, so a first run over years of calls stays in small rows. */
const BATCH = 500;
const DAY_MS = 86_400_000;

/** The steps of each kind, each in the part that owns its table. */
const STEPS: Record<RetentionKind, Array<[string, RetentionFn]>> = {
  recordings: [['telephony_recordings', removeOldRecordings]],
  transcripts: [
    ['call_turns', removeOldTranscripts],
    ['telephony_queue_calls', removeOldQueueTranscripts],
  ],
  chats: [
    ['call_turns', removeOldChatLogs],
    ['telephony_queue_calls', removeOldQueueChatLogs],
  ],
  callerNumbers: [
    ['calls', removeOldCallerNumbers],
    ['telephony_queue_calls', removeOldQueueNumbers],
    ['telephony_callbacks', removeOldCallbackNumbers],
    ['inquiries', removeOldInquiryNumbers],
  ],
};

export interface RetentionTableResult {
  table: string;
  rows: number;
  counts: Record<string, number>;
}

export interface RetentionKindResult {
  kind: RetentionKind;
  /** The period; null: kept forever (0 days), nothing looked at. */
  days: number | null;
  /** Records from before this went (null when kept forever). */
  before: Date | null;
  tables: RetentionTableResult[];
  /** The calls whose data of this kind went (or would go). */
  callIds: string[];
}

export interface RetentionReport {
  now: Date;
  dryRun: boolean;
  /** Calls on legal hold at the start of the run: nothing of theirs was touched. */
  held: number;
  kinds: RetentionKindResult[];
}

export interface RunRetentionOptions {
  now: Date;
  dryRun?: boolean;
  /** Where the run came from, for the audit (worker, cli). */
  source?: string;
  /** Records per batch (tests make it small to cross batches). */
  batch?: number;
}

export async function runRetention(
  sql: Sql,
  policy: RetentionPolicy,
  opts: RunRetentionOptions,
): Promise<RetentionReport> {
  const { now } = opts;
  const dryRun = opts.dryRun ?? false;
  const limit = opts.batch ?? BATCH;
  const held = await heldCallIds(sql);
  const kinds: RetentionKindResult[] = [];
  for (const kind of RETENTION_KINDS) {
    const days = policy[`${kind}Days`];
    if (!(days > 0)) {
      kinds.push({ kind, days: null, before: null, tables: [], callIds: [] });
      continue;
    }
    const before = new Date(now.getTime() - days * DAY_MS);
    const callIds = new Set<string>();
    const tables: RetentionTableResult[] = [];
    for (const [table, step] of STEPS[kind]) {
      const total: RetentionTableResult = { table, rows: 0, counts: {} };
      let after: RetentionCursor | null = null;
      do {
        const r = await step(sql, { before, now, held, dryRun, limit, after });
        total.rows += r.rows;
        for (const [k, v] of Object.entries(r.counts ?? {})) total.counts[k] = (total.counts[k] ?? 0) + v;
        for (const id of r.callIds) callIds.add(id);
        if (!dryRun && (r.rows > 0 || r.callIds.length > 0))
          await writeAudit(sql, RETENTION_LOGIN, 'retention.remove', kind, {
            table,
            rows: r.rows,
            ...(r.counts ?? {}),
            callIds: r.callIds,
            before: before.toISOString(),
          });
        after = r.next;
      } while (after);
      tables.push(total);
    }
    kinds.push({ kind, days, before, tables, callIds: [...callIds].sort() });
  }
  const report: RetentionReport = { now, dryRun, held: held.length, kinds };
  if (!dryRun)
    await writeAudit(sql, RETENTION_LOGIN, 'retention.run', undefined, {
      now: now.toISOString(),
      source: opts.source ?? null,
      held: held.length,
      kinds: Object.fromEntries(
        kinds.map((k) => [
          k.kind,
          {
            days: k.days,
            calls: k.callIds.length,
            rows: Object.fromEntries(k.tables.map((t) => [t.table, t.rows])),
          },
        ]),
      ),
    });
  return report;
}

/** The policy from the configuration's `retention` block. */
export function retentionPolicy(c: RetentionPolicy): RetentionPolicy {
  return {
    recordingsDays: c.recordingsDays,
    transcriptsDays: c.transcriptsDays,
    chatsDays: c.chatsDays,
    callerNumbersDays: c.callerNumbersDays,
  };
}
