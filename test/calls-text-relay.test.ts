/**
 * The callback that relays an agency's answer, through the text channel on the shipped KB, the real NLU and
 * PostgreSQL: the session runs the flow named in the leg's metadata (as telephony's placeOutbound sends
 * it), the `inquiry-answer` flow says the answer, records it and closes the inquiry; a call that has no
 * answer to give tells the caller an operator will call; a call naming a flow the KB lacks goes to an operator.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { getTurns } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { queuedCall } from '../telephony/queue.js';
import { TextLeg } from '../voicebot/channels/text/text-leg.js';
import type { SessionDeps } from '../voicebot/session.js';
import { type CallTestEnv, openCallTestEnv, runTextLeg } from './calls-text-support.js';
import { seedInquiry } from './support/inquiries.js';

const answerText =
  'Направление на МРТ выдаёт лечащий врач поликлиники по месту прикрепления. Очередь не более четырнадцати дней.';
const at = new Date('2026-11-16T11:00:00+03:00');

describe('relaying the agency answer on a callback, text channel (PostgreSQL)', () => {
  let env: CallTestEnv;
  let deps: SessionDeps;
  before(async () => {
    env = await openCallTestEnv('postgres');
    deps = {
      kb: env.engine.kb,
      nlu: env.engine.nlu,
      sql: env.db.sql,
      log: silentLogger,
      now: () => at,
    };
  });
  after(async () => env?.close());

  const inquiry = (answer: string | null) =>
    seedInquiry(env.db.sql, {
      question: 'можно ли получить направление на мрт без очереди',
      topicId: 'health',
      receivedAt: new Date('2026-11-12T10:05:00+03:00'),
      ...(answer ? { answer } : {}),
    });

  /** The leg of an outbound callback as telephony hands it to the bot: flow and inquiry in the metadata. */
  const callbackLeg = (extra: Record<string, unknown>) =>
    new TextLeg({
      callId: randomUUID(),
      from: '122',
      to: '+79990001122',
      startedAt: at,
      channel: 'simulator', // a phone callback, played through a text leg: the spoken prompts
      extra: { direction: 'outbound', ...extra },
    });

  const relayState = async (id: number) =>
    (
      await env.db.sql.query<{ status: string; relayed_at: Date | null }>(
        'SELECT status, relayed_at FROM inquiries WHERE id = $1',
        [id],
      )
    )[0]!;

  it('says the answer with its introduction, repeats it on key 1, records it and closes the inquiry', async () => {
    const id = await inquiry(answerText);
    const leg = callbackLeg({ flowId: 'inquiry-answer', inquiryId: id });
    const result = await runTextLeg(leg, deps, [{ dtmf: '1' }]);
    const said = leg.messages.map((m) => m.text);
    const relayed = said.filter((t) => t.includes(answerText));
    assert.equal(relayed.length, 2, said.join('\n'));
    assert.match(relayed[0]!, /^Здравствуйте! Это единая линия сто двадцать два/);
    assert.match(relayed[0]!, new RegExp(`обращались к нам 12 ноября, номер обращения ${id}\\.`));
    assert.match(relayed[0]!, /Ответ уполномоченного лица: Направление на МРТ/);
    assert.ok(
      said.some((t) => t.includes('нажмите один')),
      'the caller is offered to hear it again',
    );
    assert.match(said.at(-1)!, /До свидания/i);
    assert.equal(leg.endReason, 'bot_hangup');

    const turns = await getTurns(env.db.sql, result.callId);
    assert.equal(turns.filter((t) => t.who === 'bot' && t.text.includes(answerText)).length, 2);
    assert.ok(turns.some((t) => t.who === 'caller' && t.dtmf === '1'));
    const [call] = await env.db.sql.query<{ flow_id: string; status: string }>(
      'SELECT flow_id, status FROM calls WHERE id = $1',
      [result.callId],
    );
    assert.deepEqual(call, { flow_id: 'inquiry-answer', status: 'completed' });
    const state = await relayState(id);
    assert.equal(state.status, 'closed');
    assert.equal(state.relayed_at?.getTime(), at.getTime());
  });

  it('an answer relayed by an earlier call is not read out again on a later one', async () => {
    const id = await inquiry(answerText);
    await env.db.sql.query(`UPDATE inquiries SET status = 'closed', relayed_at = $2 WHERE id = $1`, [
      id,
      new Date(at.getTime() - 3_600_000),
    ]);
    const leg = callbackLeg({ flowId: 'inquiry-answer', inquiryId: id });
    await runTextLeg(leg, deps);
    const said = leg.messages.map((m) => m.text);
    assert.ok(!said.some((t) => t.includes(answerText)), said.join('\n'));
    assert.ok(said.some((t) => t.includes('сообщит оператор')));
  });

  it('an unknown inquiry id gets the operator message and changes nothing', async () => {
    const leg = callbackLeg({ flowId: 'inquiry-answer', inquiryId: 987654321 });
    const result = await runTextLeg(leg, deps);
    const said = leg.messages.map((m) => m.text);
    assert.ok(
      said.some((t) => t.includes('Ответ на ваше обращение сообщит оператор')),
      said.join('\n'),
    );
    assert.ok(!said.some((t) => t.includes('Ответ уполномоченного лица')));
    assert.match(said.at(-1)!, /До свидания/i);
    const turns = await getTurns(env.db.sql, result.callId);
    assert.ok(turns.some((t) => t.text.includes('сообщит оператор')));
  });

  it('an inquiry without an answer yet is not read out and stays open', async () => {
    const id = await inquiry(null);
    const leg = callbackLeg({ flowId: 'inquiry-answer', inquiryId: String(id) });
    await runTextLeg(leg, deps);
    assert.ok(leg.messages.some((m) => m.text.includes('сообщит оператор')));
    const state = await relayState(id);
    assert.equal(state.status, 'registered');
    assert.equal(state.relayed_at, null);
  });

  it('a caller who hangs up during the answer is not marked relayed', async () => {
    const id = await inquiry(answerText);
    const leg = callbackLeg({ flowId: 'inquiry-answer', inquiryId: id });
    // The text leg reports playback done at once; hanging up as the answer is sent stands in for the
    // caller who dropped the call while the answer was being read.
    leg.onBotMessage((m) => {
      if (m.text.includes(answerText)) leg.callerHangsUp();
    });
    const result = await runTextLeg(leg, deps);
    assert.equal(result.outcome, 'hangup');
    const state = await relayState(id);
    assert.equal(state.status, 'answered');
    assert.equal(state.relayed_at, null);
  });

  it('the session runs the flow the leg metadata names; an unknown one goes to an operator, never to another flow', async () => {
    const flowOf = async (callId: string) =>
      (await env.db.sql.query<{ flow_id: string }>('SELECT flow_id FROM calls WHERE id = $1', [callId]))[0]
        ?.flow_id;

    const named = callbackLeg({ flowId: 'inquiry-answer', inquiryId: 1 });
    assert.equal(await flowOf((await runTextLeg(named, deps)).callId), 'inquiry-answer');

    // The flow the call asked for is not in the KB: the caller hears the technical-problem message and is
    // put in the operator queue; the default flow (its greeting, its menu) does not run in its place.
    const unknown = callbackLeg({ flowId: 'no-such-flow' });
    const handedOver = await runTextLeg(unknown, deps);
    assert.equal(await flowOf(handedOver.callId), 'no-such-flow');
    assert.equal(handedOver.outcome, 'escalated');
    assert.deepEqual(
      unknown.messages.map((m) => m.text),
      ['Извините, произошла техническая ошибка. Сейчас я соединю вас с оператором.'],
    );
    const queued = await queuedCall(env.db.sql, handedOver.callId);
    assert.equal(queued?.context.reason, 'technical');

    // A flow stored before flows were checked on entry, and broken: not replaced by the default either.
    await env.db.sql.query(
      `INSERT INTO flows (id, document) VALUES ('broken-callback', '{"id": "broken-callback", "steps": [{"say": "greeting"}]}')`,
    );
    const broken = await runTextLeg(callbackLeg({ flowId: 'broken-callback' }), deps);
    assert.equal(broken.outcome, 'escalated');
    assert.equal(await flowOf(broken.callId), 'broken-callback');
    assert.ok(!broken.transcript.some((t) => t.text.startsWith('Здравствуйте!')));

    // No flow asked for (an id that is not a string is none): the default flow, greeting first.
    const notAString = callbackLeg({ flowId: 42 });
    assert.equal(await flowOf((await runTextLeg(notAString, deps, [{ hangup: true }])).callId), 'default');
    assert.match(notAString.messages[0]!.text, /^Здравствуйте! Вы позвонили на единую линию/);

    // A flow the session is given (CLI, chat) wins over the metadata.
    const given = callbackLeg({ flowId: 'inquiry-answer' });
    const run = await runTextLeg(given, { ...deps, flowId: 'default' }, [{ hangup: true }]);
    assert.equal(await flowOf(run.callId), 'default');
  });
});
