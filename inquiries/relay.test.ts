/**
 * The relay job on a real store (PGlite) and, for the answered case, a real call session: the `placeCall`
 * given to the job runs the voice bot on a text leg carrying the flow and inquiry in its metadata, exactly
 * as telephony's outbound legs do, so the answer is said by the `inquiry-answer` flow and closed by it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startWorker } from '../admin/jobs/worker.js';

import { getTurns } from '../calls/records.js';
import { OtklikError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { type CallTestEnv, openCallTestEnv, runTextLeg } from '../test/calls-text-support.js';
import { seedInquiry } from '../test/support/inquiries.js';
import { TextLeg } from '../voicebot/channels/text/text-leg.js';
import { inquiryFigures } from './figures.js';
import { relayState } from './list.js';
import { type PlaceCall, type PlaceCallRequest, type PlaceCallStatus, relayAnswers } from './relay.js';

const answerText = 'Справку о составе семьи выдаёт МФЦ в день обращения, при себе нужен паспорт.';
/** Monday, 16 November 2026, Moscow time (the seed region's zone). */
const moscow = (time: string) => new Date(`2026-11-16T${time}:00+03:00`);

interface RelayRow {
  status: string;
  relayed_at: Date | null;
  relay_attempts: number;
  relay_last_attempt_at: Date | null;
  relay_next_attempt_at: Date | null;
  relay_last_result: string | null;
  relay_needs_operator: boolean;
}

describe('relaying agency answers to callers (job)', () => {
  let env: CallTestEnv;
  let clock: Date;
  const now = () => clock;

  before(async () => {
    env = await openCallTestEnv('pglite');
  });
  after(async () => env?.close());
  beforeEach(async () => {
    // Each case sees only its own inquiries: the job relays every answered one that is due.
    await env.db.sql.query('DELETE FROM inquiries');
    clock = moscow('11:00');
  });

  const answeredInquiry = (answer = answerText) =>
    seedInquiry(env.db.sql, {
      question: 'где взять справку о составе семьи',
      receivedAt: moscow('09:05'),
      answer,
    });

  const row = async (id: number): Promise<RelayRow> =>
    (
      await env.db.sql.query<RelayRow>(
        `SELECT status, relayed_at, relay_attempts, relay_last_attempt_at, relay_next_attempt_at,
                relay_last_result, relay_needs_operator FROM inquiries WHERE id = $1`,
        [id],
      )
    )[0]!;

  /** A callback through the text channel: the same call-leg interface as telephony's outbound leg. */
  function textChannelCalls() {
    const placed: Array<{ request: PlaceCallRequest; callId: string; leg: TextLeg }> = [];
    const placeCall: PlaceCall = async (request) => {
      const leg = new TextLeg({
        callId: randomUUID(),
        from: '122',
        to: request.target,
        startedAt: clock,
        channel: 'simulator', // a phone callback through a text leg: the spoken prompts
        extra: { flowId: request.flowId, direction: 'outbound', ...request.metadata },
      });
      const result = await runTextLeg(leg, {
        kb: env.engine.kb,
        nlu: env.engine.nlu,
        sql: env.db.sql,
        queueWaitNormMs: 60_000,
        log: silentLogger,
        now,
      });
      placed.push({ request, callId: result.callId, leg });
      return { status: 'answered' };
    };
    return { placed, placeCall };
  }

  /** A callee who never picks up (or a line that is busy): the call is not connected at all. */
  function unreachable(status: PlaceCallStatus = 'no_answer') {
    const requests: PlaceCallRequest[] = [];
    const placeCall: PlaceCall = async (request) => {
      requests.push(request);
      return { status };
    };
    return { requests, placeCall };
  }

  it('calls the citizen back, the bot says the answer, the inquiry is closed and recorded', async () => {
    const id = await answeredInquiry();
    const calls = textChannelCalls();
    const summary = await relayAnswers({
      sql: env.db.sql,
      log: silentLogger,
      placeCall: calls.placeCall,
      now,
    });
    assert.deepEqual(summary, {
      callingHours: true,
      placed: 1,
      answered: 1,
      notReached: 0,
      handedToOperators: 0,
      notices: 0,
    });
    assert.equal(calls.placed.length, 1);
    const [call] = calls.placed;
    assert.deepEqual(call!.request, {
      target: '+79990001122',
      flowId: 'inquiry-answer',
      metadata: { inquiryId: id },
    });
    assert.ok(
      call!.leg.messages.some((m) => m.text.includes(`Ответ уполномоченного лица: ${answerText}`)),
      call!.leg.messages.map((m) => m.text).join('\n'),
    );
    const turns = await getTurns(env.db.sql, call!.callId);
    assert.ok(turns.some((t) => t.who === 'bot' && t.text.includes(answerText)));

    const state = await row(id);
    assert.equal(state.status, 'closed');
    assert.equal(state.relayed_at?.getTime(), clock.getTime());
    assert.equal(state.relay_attempts, 1);
    assert.equal(state.relay_last_result, 'answered');
    assert.equal(relayState({ status: state.status, relayedAt: state.relayed_at }), 'relayed');

    // Relayed: later sweeps do not call again.
    clock = moscow('12:00');
    const again = await relayAnswers({ sql: env.db.sql, log: silentLogger, placeCall: calls.placeCall, now });
    assert.equal(again.placed, 0);
    const figures = await inquiryFigures(env.db.sql, clock);
    assert.equal(figures.relayed, 1);
    assert.equal(figures.awaitingRelay, 0);
  });

  it('not answered: retried in 30 minutes, at most three times, then left for an operator', async () => {
    const id = await answeredInquiry();
    const callee = unreachable('no_answer');
    const sweep = () =>
      relayAnswers({ sql: env.db.sql, log: silentLogger, placeCall: callee.placeCall, now });

    assert.equal((await sweep()).notReached, 1);
    let state = await row(id);
    assert.equal(state.relay_attempts, 1);
    assert.equal(state.relay_last_result, 'no_answer');
    assert.equal(state.relay_last_attempt_at?.getTime(), moscow('11:00').getTime());
    assert.equal(state.relay_next_attempt_at?.getTime(), moscow('11:30').getTime());
    assert.equal(state.relay_needs_operator, false);
    assert.equal(
      relayState({ status: state.status, relayAttempts: state.relay_attempts, relayNeedsOperator: false }),
      'calling',
    );

    clock = moscow('11:29');
    assert.equal((await sweep()).placed, 0, 'not before the retry is due');
    clock = moscow('11:30');
    assert.equal((await sweep()).placed, 1);
    clock = moscow('12:00');
    const third = await sweep();
    assert.equal(third.placed, 1);
    assert.equal(third.handedToOperators, 1);
    state = await row(id);
    assert.equal(state.relay_attempts, 3);
    assert.equal(state.relay_needs_operator, true);
    assert.equal(state.status, 'answered');
    assert.equal(state.relayed_at, null);

    clock = moscow('15:00');
    assert.equal((await sweep()).placed, 0, 'no fourth call');
    assert.equal(callee.requests.length, 3);
    const figures = await inquiryFigures(env.db.sql, clock);
    assert.equal(figures.relayToOperator, 1);
    assert.equal(figures.awaitingRelay, 0);
  });

  it('an answered callback the caller dropped before the answer is tried again, then goes to an operator', async () => {
    const id = await answeredInquiry();
    // The callee picks up and hangs up at once: telephony reports "answered", but nothing was relayed.
    const callee = unreachable('answered');
    const sweep = () =>
      relayAnswers({ sql: env.db.sql, log: silentLogger, placeCall: callee.placeCall, now });
    for (const time of ['11:00', '11:30', '12:00']) {
      clock = moscow(time);
      assert.equal((await sweep()).placed, 1, time);
    }
    clock = moscow('12:29');
    assert.equal((await sweep()).handedToOperators, 0);
    clock = moscow('12:30');
    assert.equal((await sweep()).handedToOperators, 1);
    assert.equal((await row(id)).relay_needs_operator, true);
  });

  it('does not call citizens outside 09:00-21:00 in the region', async () => {
    const id = await answeredInquiry();
    const callee = unreachable('busy');
    const sweep = () =>
      relayAnswers({ sql: env.db.sql, log: silentLogger, placeCall: callee.placeCall, now });
    for (const at of [moscow('21:00'), moscow('23:30'), new Date('2026-11-17T08:59:00+03:00')]) {
      clock = at;
      const summary = await sweep();
      assert.equal(summary.callingHours, false, at.toISOString());
      assert.equal(summary.placed, 0);
    }
    assert.equal(callee.requests.length, 0);
    assert.equal((await row(id)).relay_attempts, 0);
    clock = new Date('2026-11-17T09:00:00+03:00');
    assert.equal((await sweep()).placed, 1);
    // 14:30 in Moscow is 21:30 in Vladivostok: the hours are those of the region's zone, not Moscow's.
    await env.db.sql.query('DELETE FROM inquiries');
    await answeredInquiry();
    clock = new Date('2026-11-17T14:30:00+03:00');
    const far = await relayAnswers({
      sql: env.db.sql,
      log: silentLogger,
      placeCall: callee.placeCall,
      now,
      timezone: 'Asia/Vladivostok',
    });
    assert.equal(far.callingHours, false);
  });

  it('a call that cannot be placed is a failed attempt; a non-retryable error hands it to an operator', async () => {
    const id = await answeredInquiry();
    const down: PlaceCall = async () => {
      throw new Error('ESL connection refused');
    };
    const first = await relayAnswers({ sql: env.db.sql, log: silentLogger, placeCall: down, now });
    assert.equal(first.notReached, 1);
    let state = await row(id);
    assert.equal(state.relay_last_result, 'failed');
    assert.equal(state.relay_needs_operator, false, 'an outage is retried');

    clock = moscow('11:30');
    const refused: PlaceCall = async () => {
      throw new OtklikError('VALIDATION_FAILED', 'the trunk refuses the number', { retryable: false });
    };
    const second = await relayAnswers({ sql: env.db.sql, log: silentLogger, placeCall: refused, now });
    assert.equal(second.handedToOperators, 1);
    state = await row(id);
    assert.equal(state.relay_needs_operator, true);
    assert.equal(state.relay_attempts, 2);
  });

  it('the BullMQ sweep relays only when the worker is given a way to place calls', async () => {
    const id = await answeredInquiry();
    const callee = unreachable('busy');
    const options = {
      redisUrl: 'redis://127.0.0.1:6379',
      sql: env.db.sql,
      mailer: null,
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      now,
    };
    const without = await startWorker({ ...options, prefix: `otklik-test-${randomUUID()}` });
    try {
      await without.sweepNow();
    } finally {
      await without.close();
    }
    assert.equal((await row(id)).relay_attempts, 0);

    const calls = textChannelCalls();
    const withCalls = await startWorker({
      ...options,
      prefix: `otklik-test-${randomUUID()}`,
      placeCall: calls.placeCall,
    });
    try {
      await withCalls.sweepNow();
    } finally {
      await withCalls.close();
    }
    assert.equal(callee.requests.length, 0);
    assert.equal(calls.placed.length, 1);
    assert.equal((await row(id)).status, 'closed');
  });
});
