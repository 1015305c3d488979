/**
 * Requests that work at every step (operator, repeat, goodbye), the limit of two askings per question,
 * what an inquiry keeps, and the web chat's escalation: caller scripts on the shipped KB and the real NLU,
 * each at a fixed time, checked on what the caller hears and what the records hold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inquiriesOfCall } from '../inquiries/register.js';
import { queuedCall } from '../telephony/queue.js';
import { type CallTestEnv, openCallTestEnv } from './calls-text-support.js';

type Said = { transcript: Array<{ who: string; text: string }> };
const botTexts = (call: Said) => call.transcript.filter((t) => t.who === 'bot').map((t) => t.text);
const times = (call: Said, fragment: string) => botTexts(call).filter((t) => t.includes(fragment)).length;
const dump = (call: Said) => call.transcript.map((t) => `${t.who}: ${t.text}`).join('\n');

const CONFIRM = 'Правильно ли я поняла';
const OFFER = 'Хотите, я зарегистрирую обращение';

describe('requests at every step, two askings at most, inquiries (PostgreSQL)', () => {
  let env: CallTestEnv;
  before(async () => {
    env = await openCallTestEnv('postgres');
  });
  after(async () => env?.close());

  const queued = async (callId: string) =>
    (
      await env.db.sql.query<{ state: string }>(
        'SELECT state FROM telephony_queue_calls WHERE call_id = $1',
        [callId],
      )
    ).map((r) => r.state);

  it('«соедините с человеком» at the confirmation puts the call in the operator queue', async () => {
    const { call, problems } = await env.run('operator-at-confirm');
    assert.deepEqual(problems, [], dump(call));
    assert.equal(times(call, CONFIRM), 1, dump(call));
    assert.ok(botTexts(call).some((t) => t.includes('оставайтесь на линии')));
    assert.equal((await queuedCall(env.db.sql, call.callId))?.context.reason, 'caller_request');
    assert.deepEqual(await queued(call.callId), ['waiting']);
  });

  it('key 0 at the confirmation is a request for an operator too', async () => {
    const { call, problems } = await env.run('operator-key-at-confirm');
    assert.deepEqual(problems, [], dump(call));
    assert.equal(times(call, CONFIRM), 1, dump(call));
    assert.deepEqual(await queued(call.callId), ['waiting']);
  });

  it('«оператор» at the inquiry offer after hours is not «нет»: the bot explains and offers again', async () => {
    const { call, problems } = await env.run('operator-at-inquiry-offer');
    assert.deepEqual(problems, [], dump(call));
    assert.equal(times(call, 'нерабочее время'), 2, dump(call));
    assert.equal(times(call, OFFER), 2, dump(call));
    assert.equal(times(call, 'Остались ли у вас вопросы?'), 0, dump(call));
    const [inq] = await inquiriesOfCall(env.db.sql, call.callId);
    assert.equal(inq?.agencyId, 'health_hotline');
  });

  it('a goodbye at the confirmation ends the call with the goodbye, the question not asked again', async () => {
    const { call, problems } = await env.run('goodbye-at-confirm');
    assert.deepEqual(problems, [], dump(call));
    assert.equal(times(call, CONFIRM), 1, dump(call));
    assert.match(botTexts(call).at(-1) ?? '', /до свидания/);
  });

  it('«повторите» after an answer repeats the answer, then the question after it', async () => {
    const { call, problems } = await env.run('repeat-after-answer');
    assert.deepEqual(problems, [], dump(call));
    const answer = botTexts(call).find((t) => t.includes('регистратуре'));
    assert.ok(answer, dump(call));
    assert.equal(times(call, answer), 2, dump(call));
    const afterRepeat = call.transcript.slice(
      call.transcript.findIndex((t) => t.text.startsWith('повторите')),
    );
    assert.equal(afterRepeat[1]?.text, answer, dump(call));
    assert.equal(afterRepeat[2]?.text, 'Остались ли у вас вопросы?');
    // The repeated answer is recorded with its approved version, like the first reading.
    assert.deepEqual(call.answers, [
      { intent: 'health.appointment', answer_version: 'health.appointment@v1' },
    ]);
  });

  it('a question asked twice without an answer escalates: to the operator queue in office hours', async () => {
    const { call, problems } = await env.run('asked-twice');
    assert.deepEqual(problems, [], dump(call));
    assert.equal(times(call, CONFIRM), 2, dump(call));
    assert.equal((await queuedCall(env.db.sql, call.callId))?.context.reason, 'repeated_question');
    assert.deepEqual(await queued(call.callId), ['waiting']);
  });

  it('a question asked twice at night takes the after-hours path (inquiry), never a loop', async () => {
    const { call } = await env.run('asked-twice', { at: '2026-11-24T22:30:00+03:00' });
    assert.equal(times(call, CONFIRM), 2, dump(call));
    assert.ok(times(call, 'нерабочее время') >= 1, dump(call));
    assert.ok(times(call, OFFER) >= 1, dump(call));
    // The script is over: the caller stays silent, and the bot ends the call rather than ask a third time.
    assert.ok(times(call, OFFER) <= 2, dump(call));
    assert.deepEqual(await queued(call.callId), []);
  });

  it('an inquiry keeps the caller’s own words and, with no topic, no agency (staff choose it)', async () => {
    const { call, problems } = await env.run('inquiry-own-words');
    assert.deepEqual(problems, [], dump(call));
    const [inq] = await inquiriesOfCall(env.db.sql, call.callId);
    assert.equal(inq?.question, 'у меня сломался лифт в доме кто должен его чинить');
    assert.equal(inq?.topicId, null);
    assert.equal(inq?.agencyId, null);
    assert.equal(inq?.intentId, null);
  });

  it('«перезвоните мне» keeps the question asked before, its topic and its agency', async () => {
    const { call, problems } = await env.run('callback-keeps-question');
    assert.deepEqual(problems, [], dump(call));
    const [inq] = await inquiriesOfCall(env.db.sql, call.callId);
    assert.equal(inq?.question, 'хочу пожаловаться на поликлинику мне отказали в приёме');
    assert.equal(inq?.intentId, 'health.complaint');
    assert.equal(inq?.topicId, 'health');
    assert.equal(inq?.agencyId, 'health_hotline');
  });

  it('an escalated web chat offers an inquiry instead of a queue nobody serves', async () => {
    const { call, problems } = await env.run('chat-escalated-inquiry', {}, { channel: 'text' });
    assert.deepEqual(problems, [], dump(call));
    assert.equal(times(call, 'оставайтесь на линии'), 0, dump(call));
    assert.equal(times(call, 'В чате операторы пока не отвечают'), 1, dump(call));
    assert.deepEqual(await queued(call.callId), []);
    const [inq] = await inquiriesOfCall(env.db.sql, call.callId);
    assert.equal(inq?.question, 'у меня сломался лифт в доме кто должен его чинить');
    assert.equal(inq?.callbackNumber, '+79991234567');
    // A simulated phone call with the same script still waits for an operator: the voice queue is kept.
    const phone = await env.run('chat-escalated-inquiry');
    assert.equal(phone.call.outcome, 'escalated', dump(phone.call));
  });
});
