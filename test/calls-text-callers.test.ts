/**
 * Caller scripts for what callers say first and in distress (test/scripts/): a greeting is answered and
 * keeps the conversation, a bare «помогите» is asked about, and an emergency keeps the line (112/103, then
 * an operator or a transfer). Shipped KB, real NLU, PostgreSQL; the time of each call is the script's `at`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { getCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { queuedCall } from '../telephony/queue.js';
import { TextLeg } from '../voicebot/channels/text/text-leg.js';
import { type CallTestEnv, openCallTestEnv, runTextLeg } from './calls-text-support.js';

type Transcript = Array<{ who: string; text: string }>;
const botTexts = (call: { transcript: Transcript }) =>
  call.transcript.filter((t) => t.who === 'bot').map((t) => t.text);
const said = (call: { transcript: Transcript }, fragment: string) =>
  botTexts(call).filter((t) => t.includes(fragment)).length;

describe('caller scripts: greetings, «помогите», emergencies', () => {
  let env: CallTestEnv;
  before(async () => {
    env = await openCallTestEnv('postgres');
  });
  after(async () => env?.close());

  it('a greeting is greeted back and the bot listens; a greeting with the question gets the answer', async () => {
    const { call, problems } = await env.run('greeting');
    assert.deepEqual(problems, []);
    assert.equal(said(call, 'Здравствуйте! Слушаю вас. Какой у вас вопрос?'), 3);
    assert.equal(said(call, '112'), 0);
    assert.equal(said(call, 'сто двенадцать'), 0);
    assert.equal(said(call, 'не совсем поняла'), 0, 'a greeting is not a misunderstanding');
    assert.deepEqual(call.answers, [
      { intent: 'health.appointment', answer_version: 'health.appointment@v1' },
    ]);
  });

  it('a bare «помогите» asks what happened; «нет» goes back to the conversation', async () => {
    const { call, problems } = await env.run('help-declined');
    assert.deepEqual(problems, []);
    const texts = botTexts(call);
    const asked = texts.findIndex((t) => t.includes('Вам нужна экстренная помощь?'));
    assert.ok(asked > 0, texts.join('\n'));
    assert.ok(texts[asked + 1]?.includes('Слушаю ваш вопрос'), texts.join('\n'));
    assert.equal(said(call, 'сто двенадцать'), 0);
    assert.equal(call.answers[0]?.intent, 'health.appointment');
  });

  it('«помогите», then «да»: the 112/103 message and an operator at once', async () => {
    const { call, problems } = await env.run('help-emergency');
    assert.deepEqual(problems, []);
    assert.equal(said(call, 'Вам нужна экстренная помощь?'), 1);
    assert.ok(said(call, 'сто двенадцать или сто три') > 0);
    assert.equal((await queuedCall(env.db.sql, call.callId))?.context.reason, 'emergency');
  });

  it('an emergency keeps the line: 112/103, then the operator queue; the outcome stays «emergency»', async () => {
    const { call, problems } = await env.run('emergency');
    assert.deepEqual(problems, []);
    const texts = botTexts(call);
    const message = texts.findIndex((t) => /сто двенадцать.*сто три/.test(t));
    assert.ok(message >= 0, texts.join('\n'));
    assert.ok(
      texts.slice(message + 1).some((t) => t.includes('переведу ваш звонок на оператора')),
      texts.join('\n'),
    );
    const queued = await queuedCall(env.db.sql, call.callId);
    assert.equal(queued?.context.reason, 'emergency');
    assert.equal(queued?.state, 'waiting');
    assert.equal((await getCall(env.db.sql, call.callId))?.outcome, 'emergency');
  });

  it('an emergency at night, with no operators: 112/103, and the conversation goes on', async () => {
    const { call, problems } = await env.run('emergency-night');
    assert.deepEqual(problems, []);
    const texts = botTexts(call);
    const message = texts.findIndex((t) => /сто двенадцать.*сто три/.test(t));
    assert.ok(texts[message + 1]?.includes('Остались ли у вас вопросы?'), texts.join('\n'));
    assert.equal(call.answers[0]?.intent, 'health.appointment');
    assert.equal((await getCall(env.db.sql, call.callId))?.outcome, 'emergency');
  });

  it('with EMERGENCY_TRANSFER_URI set, the emergency call is transferred there', async () => {
    const at = new Date('2026-11-24T11:00:00+03:00');
    const leg = new TextLeg({
      callId: randomUUID(),
      from: '+79991234567',
      to: '122',
      startedAt: at,
      channel: 'simulator',
    });
    const result = await runTextLeg(
      leg,
      {
        kb: env.engine.kb,
        nlu: env.engine.nlu,
        sql: env.db.sql,
        log: silentLogger,
        now: () => at,
        emergencyTransferUri: 'sip:112@127.0.0.1',
      },
      [{ say: 'человеку плохо с сердцем он не дышит' }],
    );
    assert.equal(result.outcome, 'emergency');
    assert.equal(leg.forwardedTo, 'sip:112@127.0.0.1');
    assert.equal(leg.endReason, 'transferred');
    assert.ok(said(result, 'Соединяю вас с экстренной службой') > 0);
    assert.equal(await queuedCall(env.db.sql, result.callId), null);
  });
});
