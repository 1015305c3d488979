import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { createKbEditor } from '../../kb/editor.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { ensureSeeded } from '../../kb/seed.js';
import type { KnowledgeBase } from '../../kb/types.js';
import type { Classification } from '../../nlu/types.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { previewBotTurn } from './preview.js';

/**
 * «Проверка фразы»: what the bot would do with a reading of the NLU, on the shipped KB and its `default`
 * flow, at a moment the test sets (Tuesday 24 November 2026 11:00 Moscow: everyone works; Sunday 29th
 * 20:00: the hotlines and the line's own operators are closed).
 */
const TUESDAY = new Date('2026-11-24T11:00:00+03:00');
const SUNDAY = new Date('2026-11-29T20:00:00+03:00');

function reading(intent: string, over: Partial<Classification> = {}): Classification {
  return {
    text: 'фраза редактора',
    intent,
    confidence: 0.91,
    alternatives: [],
    entities: [],
    needsConfirmation: false,
    emergency: false,
    emergencySuspected: false,
    ...over,
  };
}

describe('previewBotTurn: what the bot would do and say now', () => {
  let db: TestDb;
  let kb: KnowledgeBase;
  const preview = (c: Classification, at: Date, extra: { channel?: 'phone' | 'text' } = {}) =>
    previewBotTurn({ kb, classification: c, at, log: silentLogger, ...extra });

  before(async () => {
    db = await openTestDb('postgres');
    await ensureSeeded(db.sql);
    kb = createKnowledgeBase(db.sql);
  });
  after(() => db?.drop());

  it('reads the approved version of an answer intent, then asks what else', async () => {
    const p = await preview(reading('health.appointment'), TUESDAY);
    assert.equal(p.flowId, 'default');
    assert.equal(p.entryStep, 'menu');
    assert.equal(p.intent?.title, 'Запись на приём к врачу');
    assert.equal(p.intent?.handling, 'answer');
    assert.equal(p.intent?.topicTitle, 'Здравоохранение');
    assert.equal(p.answerServed, true);
    assert.equal(p.approvedAnswer?.versionTag, 'health.appointment@v1');
    assert.deepEqual(
      p.steps.map((s) => `${s.stepId}:${s.outcome}`),
      [
        'menu:intent',
        'route:default',
        'check_confirm:default',
        'by_handling:answer',
        'answer:answered',
        'anything_else:null',
      ],
    );
    assert.equal(p.says[0]?.kind, 'answer');
    assert.equal(p.says[0]?.answerVersion, 'health.appointment@v1');
    assert.match(p.says[0]?.text ?? '', /^Записаться к терапевту/);
    assert.deepEqual(p.says[1], {
      stepId: 'anything_else',
      kind: 'prompt',
      promptId: 'anything_else',
      text: 'Остались ли у вас вопросы?',
    });
    assert.equal(p.end, 'answered');
    assert.equal(p.confirmation, null);
    assert.equal(p.agency?.id, 'health_hotline');
    assert.equal(p.agency?.open, true);
  });

  it('serves the approved version, never the newer draft', async () => {
    const p = await preview(reading('health.vaccination'), TUESDAY);
    assert.equal(p.approvedAnswer?.versionTag, 'health.vaccination@v1');
    const answer = p.says.find((s) => s.kind === 'answer');
    assert.equal(answer?.answerVersion, 'health.vaccination@v1');
    assert.doesNotMatch(answer?.text ?? '', /гриппа можно бесплатно поставить/);
  });

  it('asks to confirm first when the NLU is unsure, with the intent title, then goes on as after «да»', async () => {
    const p = await preview(
      reading('health.appointment', { needsConfirmation: true, confidence: 0.52 }),
      TUESDAY,
    );
    assert.deepEqual(p.confirmation, {
      promptId: 'confirm',
      text: 'Правильно ли я поняла, вы спрашиваете о теме «Запись на приём к врачу»? Скажите да или нет.',
    });
    assert.deepEqual(
      p.steps.slice(0, 4).map((s) => `${s.stepId}:${s.outcome}`),
      ['menu:intent', 'route:default', 'check_confirm:needed', 'confirm:yes'],
    );
    assert.equal(p.says[0]?.promptId, 'confirm');
    assert.equal(p.says[1]?.answerVersion, 'health.appointment@v1');
    // The chat's written form: «Напишите да или нет».
    const chat = await preview(reading('health.appointment', { needsConfirmation: true }), TUESDAY, {
      channel: 'text',
    });
    assert.match(chat.confirmation?.text ?? '', /Напишите да или нет\.$/);
  });

  it('forwards to the open agency by its hours, and offers an inquiry when it is closed', async () => {
    const open = await preview(reading('health.complaint'), TUESDAY);
    assert.equal(open.intent?.handling, 'forward');
    assert.deepEqual(open.agency, {
      id: 'health_hotline',
      name: 'Горячая линия министерства здравоохранения',
      forwardNumber: '+7 000 000-00-01',
      open: true,
      nextChange: new Date('2026-11-24T18:00:00+03:00'),
    });
    assert.equal(open.end, 'forward');
    assert.equal(
      open.says.at(-1)?.text,
      'Соединяю вас со службой: Горячая линия министерства здравоохранения. Пожалуйста, оставайтесь на линии.',
    );

    const closed = await preview(reading('health.complaint'), SUNDAY);
    assert.equal(closed.agency?.open, false);
    assert.deepEqual(closed.agency?.nextChange, new Date('2026-11-30T09:00:00+03:00'));
    assert.equal(closed.operators.open, false);
    assert.deepEqual(
      closed.steps.map((s) => `${s.stepId}:${s.outcome}`),
      [
        'menu:intent',
        'route:default',
        'check_confirm:default',
        'by_handling:forward',
        'forward:closed',
        'after_hours:next',
        'inquiry:null',
      ],
    );
    assert.deepEqual(
      closed.says.map((s) => s.promptId),
      ['after_hours', 'inquiry_offer'],
    );
    assert.equal(closed.end, 'inquiry');
  });

  it('without an approved answer says answer_unavailable and offers an operator, or an inquiry after hours', async () => {
    // The only approved version of social.benefits is retired: nothing of it may be served.
    const editor = createKbEditor(db.sql);
    const approved = (await editor.versions('social.benefits')).find((v) => v.status === 'approved');
    assert.ok(approved);
    await editor.retire('social.benefits', approved.version);

    const day = await preview(reading('social.benefits'), TUESDAY);
    assert.equal(day.approvedAnswer, null);
    assert.equal(day.answerServed, false);
    assert.equal(day.answerUnavailable, true);
    assert.equal(day.says[0]?.promptId, 'answer_unavailable');
    assert.match(day.says[0]?.text ?? '', /согласованный ответ пока не подготовлен/);
    assert.ok(!day.says.some((s) => s.kind === 'answer'));
    assert.deepEqual(
      day.says.map((s) => s.promptId),
      ['answer_unavailable', 'escalate', 'queue_wait'],
    );
    assert.equal(day.end, 'operator');
    assert.equal(day.operators.byHours, true);

    // The web chat with nobody at the desk: the inquiry instead of a wait.
    const chat = await preview(reading('social.benefits'), TUESDAY, { channel: 'text' });
    assert.deepEqual(
      chat.says.map((s) => s.promptId),
      ['answer_unavailable', 'chat_no_operator', 'inquiry_offer'],
    );
    assert.equal(chat.end, 'inquiry');

    const night = await preview(reading('social.benefits'), SUNDAY);
    assert.deepEqual(
      night.says.map((s) => s.promptId),
      ['answer_unavailable', 'after_hours', 'inquiry_offer'],
    );
    assert.equal(night.operators.open, false);
  });

  it('takes the requests of every step first: emergency, a suspected one, an operator, a greeting', async () => {
    const sos = await preview(reading('emergency', { emergency: true }), TUESDAY);
    assert.equal(sos.end, 'emergency');
    assert.equal(sos.says[0]?.promptId, 'emergency');
    assert.equal(sos.steps[0]?.outcome, 'emergency');

    const maybe = await preview(reading('out_of_scope', { emergencySuspected: true }), TUESDAY);
    assert.equal(maybe.end, 'emergency_check');
    assert.deepEqual(
      maybe.says.map((s) => s.promptId),
      ['emergency_confirm'],
    );

    const person = await preview(reading('service.operator'), TUESDAY);
    assert.equal(person.end, 'operator');
    assert.equal(person.steps[1]?.stepId, 'operator');

    const hello = await preview(reading('dialog.greeting'), TUESDAY);
    assert.equal(hello.end, 'greeting');
    assert.equal(hello.says[0]?.text, 'Здравствуйте! Слушаю вас. Какой у вас вопрос?');
  });

  it('a phrase the NLU cannot place: the menu’s keyword, else «не совсем поняла»', async () => {
    const lost = await preview(reading('out_of_scope', { text: 'какая погода на марсе' }), TUESDAY);
    assert.equal(lost.intent?.id, 'out_of_scope');
    assert.equal(lost.approvedAnswer, null);
    assert.equal(lost.end, 'no_match');
    assert.equal(lost.says[0]?.promptId, 'no_match');

    const topic = await preview(reading('out_of_scope', { text: 'образование' }), TUESDAY);
    assert.deepEqual(
      topic.steps.map((s) => `${s.stepId}:${s.outcome}`),
      ['menu:topic', 'ask:null'],
    );
    assert.equal(topic.says[0]?.text, 'Пожалуйста, задайте ваш вопрос своими словами.');
    assert.equal(topic.end, 'waits');
  });
});
