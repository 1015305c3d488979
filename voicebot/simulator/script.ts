/**
 * Caller scripts (../shared/contracts/caller-script.md): parsing with errors that name the file, line and
 * field, and checking a finished call against the script's `expect`.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { CallOutcome } from '../../calls/records.js';
import { OtklikError } from '../../core/errors.js';

const outcomes = [
  'answered',
  'escalated',
  'operator',
  'forwarded',
  'inquiry',
  'emergency',
  'abandoned',
  'hangup',
] as const;

const turnSchema = z.union([
  z.strictObject({
    say: z.string().trim().min(1, 'say: the caller must say something'),
    barge_in: z.boolean().optional(),
  }),
  z.strictObject({
    dtmf: z.union([z.string(), z.number().int().nonnegative()]).transform((v, ctx) => {
      const s = String(v);
      if (!/^[0-9*#]+$/.test(s)) ctx.addIssue({ code: 'custom', message: 'dtmf: only digits 0-9, * and #' });
      return s;
    }),
  }),
  z.strictObject({ silence_ms: z.number().int().positive('silence_ms: a positive number of milliseconds') }),
  z.strictObject({ hangup: z.literal(true) }),
]);

export const callerScriptSchema = z.strictObject({
  caller: z.union([z.string(), z.number()]).transform(String).optional(),
  number: z.union([z.string(), z.number()]).transform(String).optional(),
  at: z.iso
    .datetime({ offset: true, message: 'at: an ISO 8601 time with offset, e.g. 2026-11-23T22:30:00+03:00' })
    .optional(),
  turns: z.array(turnSchema).min(1, 'turns: at least one turn'),
  expect: z
    .strictObject({
      outcome: z.enum(outcomes).optional(),
      intents: z.array(z.string()).optional(),
    })
    .optional(),
});

export type CallerScript = z.infer<typeof callerScriptSchema>;
export type ScriptTurn = CallerScript['turns'][number];

export const defaultCaller = '+79990000122';

/** Parses a caller script; errors name the source, line and field. */
export function parseCallerScript(text: string, source = 'script'): CallerScript {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new OtklikError(
      'VALIDATION_FAILED',
      `${source}${pos ? `:${pos.line}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`,
    );
  }
  const parsed = callerScriptSchema.safeParse(doc.toJS());
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const path = issue.path.map(String);
    const node = locate(doc, issue.path as Array<string | number>);
    const line = node !== null ? `:${lineCounter.linePos(node).line}` : '';
    return `${source}${line}: ${path.join('.') || '(script)'}: ${describeIssue(issue)}`;
  });
  throw new OtklikError('VALIDATION_FAILED', `invalid caller script:\n${lines.join('\n')}`);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union') return 'a turn is one of: say, dtmf, silence_ms, hangup: true';
  if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
  return issue.message;
}

/** The source offset of the deepest node on `path` (for line numbers). */
function locate(doc: ReturnType<typeof parseDocument>, path: Array<string | number>): number | null {
  let offset: number | null = doc.contents?.range?.[0] ?? null;
  for (let i = 1; i <= path.length; i++) {
    const node = doc.getIn(path.slice(0, i), true) as { range?: [number, number] | null } | undefined;
    if (!node || !(isMap(node) || isScalar(node) || node.range)) break;
    if (node.range) offset = node.range[0];
  }
  return offset;
}

export function readCallerScript(file: string): CallerScript {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OtklikError('NOT_FOUND', `${file}: cannot read the caller script: ${(err as Error).message}`);
  }
  return parseCallerScript(text, file);
}

export interface SimulationResult {
  outcome: CallOutcome;
  intents: string[];
  transcript: Array<{ who: 'caller' | 'bot' | 'operator'; text: string; at_ms: number }>;
  answers: Array<{ intent: string; answer_version: string }>;
}

/** An expected intent matches an actual one exactly or as a dotted prefix ("health" ~ "health.appointment"). */
function intentMatches(expected: string, actual: string | undefined): boolean {
  return actual !== undefined && (actual === expected || actual.startsWith(`${expected}.`));
}

/** What differed from the script's `expect` (empty when everything matched). */
export function checkExpectations(script: CallerScript, result: SimulationResult): string[] {
  const problems: string[] = [];
  const expect = script.expect;
  if (!expect) return problems;
  if (expect.outcome && expect.outcome !== result.outcome) {
    problems.push(`outcome: expected ${expect.outcome}, got ${result.outcome}`);
  }
  if (expect.intents) {
    const ok = expect.intents.every((e, i) => intentMatches(e, result.intents[i]));
    if (!ok) {
      problems.push(
        `intents: expected [${expect.intents.join(', ')}] first, got [${result.intents.join(', ')}]`,
      );
    }
  }
  return problems;
}
