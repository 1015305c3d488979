/**
 * The inbox's read of the callers' turns (PGlite, turns written through records.ts on fixed times): each
 * reason, what is never a candidate, the period, and the weekly unrecognized share in the region's weeks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { callerTurnWeeks, inboxTurns } from './inbox-rows.js';
import { addTurn, createCall, endCall, type Turn } from './records.js';

const tz = 'Asia/Irkutsk';

async function call(db: TestDb, id: string, startedAt: string, turns: Turn[], outcome = 'answered' as const) {
  await createCall(db.sql, {
    id,
    channel: 'text',
    callerNumber: '+79145550011',
    dialledNumber: '122',
    startedAt: new Date(startedAt),
    flowId: 'main',
  });
  for (const [i, t] of turns.entries()) await addTurn(db.sql, id, i + 1, t);
  await endCall(db.sql, id, outcome, new Date(Date.parse(startedAt) + 60_000));
}

const bot = (text: string, atMs: number, extra: Partial<Turn> = {}): Turn => ({
  who: 'bot',
  text,
  atMs,
  ...extra,
});
const caller = (text: string, atMs: number, intent: string, confidence = 0.9): Turn => ({
  who: 'caller',
  text,
  atMs,
  intent,
  confidence,
});

describe('calls/inbox-rows: the callers’ turns for the inbox', () => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb('pglite');
    // Monday 2026-11-23 in Irkutsk (UTC+8): a confirmation answered «нет», one not understood, one sure answer.
    await call(db, 'c-confirm', '2026-11-23T02:00:00Z', [
      bot('Здравствуйте!', 0),
      caller('справка о доходах для субсидии', 3000, 'social.benefits', 0.42),
      bot('Правильно ли я поняла, вы спрашиваете о теме «Льготы»?', 4000, { intent: 'social.benefits' }),
      caller('нет', 6000, 'dialog.no', 0.95),
      caller('погода завтра какая', 9000, 'out_of_scope', 0.2),
      caller('как записаться к врачу', 12_000, 'health.appointment', 0.93),
      { who: 'caller', text: '0', atMs: 13_000, dtmf: '0' },
    ]);
    // The same week: a confirmation answered with key 2; a low-confidence question that was then answered.
    await call(db, 'c-key', '2026-11-25T03:00:00Z', [
      caller('выплаты переселенцам', 1000, 'refugees.payments', 0.45),
      bot('Правильно ли я поняла, вы спрашиваете о теме «Выплаты»?', 2000, { intent: 'refugees.payments' }),
      { who: 'caller', text: '2', atMs: 3000, dtmf: '2' },
      caller('пособие на ребёнка', 5000, 'social.benefits', 0.35),
      bot('Пособие назначается…', 6000, { answerVersion: 'social.benefits@v1' }),
      caller('да', 8000, 'dialog.yes', 0.9),
    ]);
    // The next week: a call handed to an operator: its question before the operator joined, not the chat after.
    await call(
      db,
      'c-operator',
      '2026-12-01T04:00:00Z',
      [
        caller('мне нужна справка из архива', 1000, 'services.gosuslugi', 0.81),
        caller('соедините с оператором', 3000, 'service.operator', 0.97),
        { who: 'operator', text: 'Оператор Иванова, слушаю', atMs: 20_000 },
        {
          who: 'caller',
          text: 'здравствуйте, я про архив',
          atMs: 25_000,
          intent: 'out_of_scope',
          confidence: 0.1,
        },
      ],
      'operator' as 'answered',
    );
    // Outside the period: a week earlier.
    await call(db, 'c-old', '2026-11-16T02:00:00Z', [caller('что-то непонятное', 1000, 'out_of_scope', 0.1)]);
  });
  after(() => db?.drop());

  it('finds each reason, one per turn, the latest first, and nothing of dialog control or after the operator', async () => {
    const turns = await inboxTurns(db.sql, {
      from: new Date('2026-11-22T16:00:00Z'),
      to: new Date('2026-12-06T16:00:00Z'),
      lowConfidence: 0.5,
    });
    assert.deepEqual(
      turns.map((t) => [t.callId, t.text, t.reason]),
      [
        ['c-operator', 'мне нужна справка из архива', 'to_operator'],
        ['c-key', 'пособие на ребёнка', 'low_confidence'],
        ['c-key', 'выплаты переселенцам', 'confirmed_wrong'],
        ['c-confirm', 'погода завтра какая', 'not_understood'],
        ['c-confirm', 'справка о доходах для субсидии', 'confirmed_wrong'],
      ],
    );
    const first = turns.at(-1)!;
    assert.equal(first.at.toISOString(), '2026-11-23T02:00:03.000Z');
    assert.equal(first.intent, 'social.benefits');
    assert.equal(first.confidence, 0.42);
    assert.equal(first.seq, 2);
  });

  it('the threshold decides what is low confidence; the period is that of the calls’ start', async () => {
    const turns = await inboxTurns(db.sql, {
      from: new Date('2026-11-24T16:00:00Z'),
      to: new Date('2026-11-30T16:00:00Z'),
      lowConfidence: 0.3,
    });
    assert.deepEqual(
      turns.map((t) => [t.text, t.reason]),
      [['выплаты переселенцам', 'confirmed_wrong']],
    );
  });

  it('counts the classified caller turns per local ISO week and those not understood', async () => {
    const weeks = await callerTurnWeeks(db.sql, {
      from: new Date('2026-11-15T16:00:00Z'),
      to: new Date('2026-12-06T16:00:00Z'),
      timeZone: tz,
    });
    assert.deepEqual(weeks, [
      { week: '2026-11-16', turns: 1, unrecognized: 1 },
      // c-confirm: 4 spoken turns (the key press is not read), c-key: 3 (the key 2 is not either).
      { week: '2026-11-23', turns: 7, unrecognized: 1 },
      { week: '2026-11-30', turns: 3, unrecognized: 1 },
    ]);
  });
});
