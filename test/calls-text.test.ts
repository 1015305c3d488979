/**
 * Scripted calls through the text channel, one per outcome, on the shipped KB and the real NLU:
 * what the caller hears, and what the records (turns, the operator queue, inquiries, survey) hold afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getCall, getTurns } from '../calls/records.js';
import { inquiriesOfCall } from '../inquiries/register.js';
import { OperatorQueue, queuedCall } from '../telephony/queue.js';
import { type CallTestEnv, openCallTestEnv } from './calls-text-support.js';

const botSaid = (call: { transcript: Array<{ who: string; text: string }> }, fragment: string) =>
  call.transcript.some((t) => t.who === 'bot' && t.text.includes(fragment));

describe('scripted calls, text channel (PostgreSQL; PGlite runs the kill -9 test)', () => {
  let env: CallTestEnv;
  before(async () => {
    env = await openCallTestEnv('postgres');
  });
  after(async () => env?.close());

  it('answered: the approved script is read, its version recorded, the survey score stored', async () => {
    const { call, problems } = await env.run('answered');
    assert.deepEqual(problems, []);
    assert.equal(call.outcome, 'answered');
    assert.deepEqual(call.answers, [
      { intent: 'health.appointment', answer_version: 'health.appointment@v1' },
    ]);
    assert.ok(botSaid(call, 'Остались ли у вас вопросы?'));
    const record = await getCall(env.db.sql, call.callId);
    assert.equal(record?.status, 'completed');
    assert.equal(record?.outcome, 'answered');
    assert.equal(record?.callerNumber, '+79991234567');
    // Every turn of the dialogue is in the record, in order, with the answer version on the answer.
    const turns = await getTurns(env.db.sql, call.callId);
    assert.deepEqual(
      turns.map((t) => [t.who, t.text]),
      call.transcript.map((t) => [t.who, t.text]),
    );
    assert.deepEqual(
      turns.map((t) => t.seq),
      turns.map((_, i) => i + 1),
    );
    const answerTurn = turns.find((t) => t.answerVersion);
    assert.equal(answerTurn?.answerVersion, 'health.appointment@v1');
    assert.equal(turns.find((t) => t.who === 'caller')?.intent, 'health.appointment');
    const survey = await env.db.sql.query<{ score: number }>(
      'SELECT score FROM survey_results WHERE call_id = $1',
      [call.callId],
    );
    assert.deepEqual(
      survey.map((s) => s.score),
      [5],
    );
  });

  it('the greeting is followed by the active incident announcement, and only while it is active', async () => {
    const { call } = await env.run('caller-hangup');
    const texts = call.transcript.map((t) => t.text);
    const greeting = texts.findIndex((t) => t.startsWith('Здравствуйте'));
    assert.equal(greeting, 0);
    assert.ok(texts[greeting + 2]?.includes('В Заречном районе Энска'), texts.join('\n'));
    const later = await env.run('caller-hangup', { at: '2027-05-12T11:00:00+03:00' });
    assert.ok(!botSaid(later.call, 'Заречном районе'));
  });

  it('survey: the keypad score 1-5 is stored', async () => {
    const { call, problems } = await env.run('survey');
    assert.deepEqual(problems, []);
    const survey = await env.db.sql.query<{ score: number }>(
      'SELECT score FROM survey_results WHERE call_id = $1',
      [call.callId],
    );
    assert.equal(survey[0]?.score, 4);
    assert.ok(botSaid(call, 'Спасибо за оценку'));
  });

  it('escalated on request: queued with the context package', async () => {
    const { call, problems } = await env.run('escalated-request');
    assert.deepEqual(problems, []);
    // One record: the queued call carries what the operator sees.
    const queued = await queuedCall(env.db.sql, call.callId);
    assert.equal(queued?.state, 'waiting');
    const context = queued!.context;
    assert.equal(context.reason, 'caller_request');
    assert.equal(context.callerNumber, '+79991234567');
    assert.equal(context.intents?.[0]?.intent, 'service.operator');
    assert.ok(context.intents![0]!.confidence > 0);
    assert.ok(context.transcript?.some((t) => t.who === 'caller' && t.text.includes('оператором')));
    assert.ok(context.transcript?.every((t) => typeof t.atMs === 'number'));
    assert.ok(botSaid(call, 'оставайтесь на линии'));
  });

  it('escalated after two misunderstandings', async () => {
    const { call, problems } = await env.run('escalated-misunderstood');
    assert.deepEqual(problems, []);
    assert.ok(botSaid(call, 'не совсем поняла'));
    assert.equal((await queuedCall(env.db.sql, call.callId))?.context.reason, 'misunderstood');
  });

  it('abandoned: the caller hangs up while waiting for an operator', async () => {
    const { call, problems } = await env.run('abandoned');
    assert.deepEqual(problems, []);
    assert.equal((await queuedCall(env.db.sql, call.callId))?.state, 'abandoned');
  });

  it('a caller who hangs up in the queue is lost past the configured wait norm, not a fixed one', async () => {
    // 90 s in the queue: lost past a 60 s norm, in time for a 120 s norm (the bot used to apply 60 s always).
    const patch = { turns: [{ dtmf: '0' }, { silence_ms: 90_000 }, { hangup: true as const }] };
    const pastNorm = async (queueWaitNormMs: number) => {
      const { call, problems } = await env.run('abandoned', patch, { queueWaitNormMs });
      assert.deepEqual(problems, []);
      const [row] = await env.db.sql.query<{ state: string; past_norm: boolean; wait_ms: string }>(
        'SELECT state, past_norm, wait_ms FROM telephony_queue_calls WHERE call_id = $1',
        [call.callId],
      );
      assert.equal(row?.state, 'abandoned');
      assert.ok(Number(row?.wait_ms) >= 90_000, `waited ${row?.wait_ms} ms on the call's clock`);
      return row?.past_norm;
    };
    assert.equal(await pastNorm(60_000), true);
    assert.equal(await pastNorm(120_000), false);
  });

  it('waiting: the caller hears the place and, at the norm, the callback offer; key 1 registers it and the call ends after the confirmation', async () => {
    const caller = '+79005554433';
    const turns = [{ dtmf: '0' }, { silence_ms: 21_000 }, { silence_ms: 40_000 }, { dtmf: '1' }];
    const { call } = await env.run('abandoned', { caller, turns });
    const said = call.transcript.filter((t) => t.who === 'bot').map((t) => t.text);
    const place = said.findIndex((t) => /^Вы \S+ в очереди\.$/.test(t));
    const offer = said.indexOf(
      'Если не хотите ждать, нажмите один, и мы перезвоним, как только освободится оператор.',
    );
    assert.ok(place >= 0 && offer > place, said.join('\n'));
    assert.equal(
      said.filter((t) => t.startsWith('Если не хотите ждать')).length,
      1,
      'offered at the norm only',
    );
    assert.equal(said.at(-1), 'Мы перезвоним вам на номер +7 900 555-44-33. Оставайтесь на связи.');
    assert.equal(call.unusedTurns, 0);
    assert.equal((await queuedCall(env.db.sql, call.callId))?.state, 'callback');
    const [cb] = await env.db.sql.query<{ phone: string }>(
      'SELECT phone FROM telephony_callbacks WHERE call_id = $1',
      [call.callId],
    );
    assert.equal(cb?.phone, caller);
    assert.equal((await getCall(env.db.sql, call.callId))?.status, 'completed', 'the bot ended the call');
  });

  it('waiting with no number to call back: after the announcements the bot offers an inquiry', async () => {
    const queue = new OperatorQueue(env.db.sql, { waitNormMs: 60_000 });
    await queue.upsertQueue({ id: 'default', announceMax: 1 });
    try {
      const turns = [{ dtmf: '0' }, { silence_ms: 21_000 }, { silence_ms: 21_000 }];
      const { call } = await env.run('abandoned', { caller: 'anonymous', turns });
      assert.ok(!botSaid(call, 'Если не хотите ждать'), 'no callback offer without a number');
      assert.ok(botSaid(call, 'Я могу зарегистрировать ваш вопрос как обращение'));
      assert.ok(botSaid(call, 'Хотите, я зарегистрирую обращение'));
      assert.equal((await queuedCall(env.db.sql, call.callId))?.state, 'inquiry');
    } finally {
      await queue.upsertQueue({ id: 'default', announceMax: null });
    }
  });

  it('forwarded to the responsible agency within its working hours', async () => {
    const { call, problems } = await env.run('forwarded');
    assert.deepEqual(problems, []);
    assert.ok(botSaid(call, 'Горячая линия министерства здравоохранения'));
  });

  it('after hours: an inquiry with a corrected callback number and its deadlines', async () => {
    const { call, problems } = await env.run('after-hours-inquiry');
    assert.deepEqual(problems, []);
    assert.ok(botSaid(call, 'нерабочее время'));
    assert.ok(botSaid(call, '+7 999 123-45-67'), 'the caller id is offered first');
    assert.ok(botSaid(call, '+7 916 123-45-67'), 'the typed number is read back');
    const [inq] = await inquiriesOfCall(env.db.sql, call.callId);
    assert.equal(inq?.callbackNumber, '+79161234567');
    assert.equal(inq?.agencyId, 'health_hotline');
    assert.equal(inq?.topicId, 'health');
    assert.match(inq?.question ?? '', /пожаловаться на поликлинику/);
    assert.ok(inq!.receivedAt.getTime() > new Date('2026-11-24T22:30:00+03:00').getTime());
    assert.equal(inq!.dispatchDueAt.getTime() - inq!.receivedAt.getTime(), 15 * 60_000);
    // Received after 16:00 on Tuesday: the agency answers by 16:00 of the next working day.
    assert.equal(inq?.answerDueAt.toISOString(), '2026-11-25T13:00:00.000Z');
    assert.ok(botSaid(call, `под номером ${inq?.id}`));
    assert.ok(botSaid(call, 'до 25 ноября в 16:00'));
  });

  it('a callback request registers an inquiry on the caller id after the caller confirms it', async () => {
    const { call, problems } = await env.run('callback');
    assert.deepEqual(problems, []);
    const [inq] = await inquiriesOfCall(env.db.sql, call.callId);
    assert.equal(inq?.callbackNumber, '+79991234567');
    assert.match(inq?.question ?? '', /пожаловаться/);
  });

  it('emergency: the 112/103 message at once, then an operator (test/calls-text-callers.test.ts has more)', async () => {
    const { call, problems } = await env.run('emergency');
    assert.deepEqual(problems, []);
    const first = call.transcript.findIndex((t) => t.who === 'caller');
    assert.match(call.transcript[first + 1]?.text ?? '', /сто двенадцать.*сто три/);
    assert.ok(botSaid(call, 'переведу ваш звонок на оператора'));
  });

  it('an unsure recognition is confirmed before the answer', async () => {
    const { call, problems } = await env.run('confirm');
    assert.deepEqual(problems, []);
    assert.ok(botSaid(call, 'вы спрашиваете о теме «Выплаты прибывшим»'));
    assert.equal(call.answers[0]?.intent, 'refugees.payments');
  });

  it('caller hang-up during the menu', async () => {
    const { call, problems } = await env.run('caller-hangup');
    assert.deepEqual(problems, []);
    assert.equal((await getCall(env.db.sql, call.callId))?.outcome, 'hangup');
  });

  it('silence: a reprompt, then goodbye', async () => {
    const { call, problems } = await env.run('silence');
    assert.deepEqual(problems, []);
    assert.ok(call.transcript.filter((t) => t.text === 'Извините, я вас не слышу.').length >= 1);
    assert.match(call.transcript.at(-1)?.text ?? '', /до свидания/);
  });

  it('an unapproved script is never served: the caller is offered a person instead', async () => {
    await env.db.sql.query(
      `UPDATE answer_versions SET status = 'retired', retired_at = now() WHERE intent_id = 'health.vaccination' AND status = 'approved'`,
    );
    const draft = await env.db.sql.query<{ speech: string }>(
      `SELECT speech FROM answer_versions WHERE intent_id = 'health.vaccination' AND status = 'draft'`,
    );
    assert.ok(draft.length > 0, 'the seed has a draft for this intent');
    const { call, problems } = await env.run('vaccination-unapproved');
    assert.deepEqual(problems, []);
    assert.ok(botSaid(call, 'до согласования скриптов информирование не производится'));
    assert.ok(!botSaid(call, draft[0]!.speech.slice(0, 40)));
    assert.deepEqual(call.answers, []);
  });

  it('a default flow stored broken (by an older version) runs as its built-in copy', async () => {
    await env.db.sql.query(
      `UPDATE flows SET document = '{"id": "default", "steps": [{"id": "x", "type": "nope"}]}' WHERE id = 'default'`,
    );
    const { call, problems } = await env.run('forwarded');
    assert.deepEqual(problems, []);
    assert.equal(call.outcome, 'forwarded');
  });
  it('a flow that loops without hearing the caller ends in the operator queue, not a hung call', async () => {
    const loop = {
      id: 'default',
      steps: [
        { id: 'a', type: 'say', prompt: 'ask_question', next: 'b' },
        { id: 'b', type: 'say', prompt: 'anything_else', next: 'a' },
      ],
    };
    await env.db.sql.query(`UPDATE flows SET document = $1 WHERE id = 'default'`, [JSON.stringify(loop)]);
    const { call } = await env.run('caller-hangup');
    assert.equal(call.outcome, 'escalated');
    assert.ok(botSaid(call, 'техническая ошибка'));
    assert.equal((await queuedCall(env.db.sql, call.callId))?.context.reason, 'technical');
  });
});
