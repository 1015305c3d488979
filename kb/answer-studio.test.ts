import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { effectiveHandling } from './answer-handling.js';
import { answerEvents, approvalDueAt, approvalFigures, pendingAnswers } from './answer-queue.js';
import { createKbEditor, type KbEditor } from './editor.js';
import { smallFixture } from './fixtures/index.js';
import { toCalendar } from './hours.js';
import { createKnowledgeBase, type KnowledgeBaseReader } from './knowledge-base.js';
import { exportKb, importKb } from './transfer.js';
import { wordDiff } from './word-diff.js';

/**
 * The answer studio in kb: a version's three texts and its handling, the return with a comment, the
 * approvers' queue with its word diff and the one-working-day mark by the production calendar (time given),
 * the events the mail goes by, and the new columns through export and import.
 */
describe('word diff', () => {
  it('marks the words added and removed, keeping the rest', () => {
    assert.deepEqual(wordDiff('Запись в регистратуре поликлиники.', 'Запись на портале и в регистратуре.'), [
      { op: 'same', text: 'Запись ' },
      { op: 'add', text: 'на портале и ' },
      { op: 'same', text: 'в ' },
      { op: 'del', text: 'регистратуре поликлиники.' },
      { op: 'add', text: 'регистратуре.' },
    ]);
    assert.deepEqual(wordDiff('', 'Новый текст'), [{ op: 'add', text: 'Новый текст' }]);
    assert.deepEqual(wordDiff('Тот же текст', 'Тот же текст'), [{ op: 'same', text: 'Тот же текст' }]);
  });
});

describe('one working day by the production calendar', () => {
  const tz = 'Europe/Moscow';
  // 2026-11-04 (Wednesday) is a holiday in this calendar.
  const calendar = toCalendar([
    { date: '2026-11-04', kind: 'holiday', title: 'День народного единства', worksAs: null },
  ]);
  it('counts to the same time of the next working day, over weekends and holidays', () => {
    // Friday 15:00 → Monday 15:00.
    assert.equal(
      approvalDueAt(new Date('2026-11-27T15:00:00+03:00'), calendar, tz).toISOString(),
      new Date('2026-11-30T15:00:00+03:00').toISOString(),
    );
    // Tuesday 10:00 before the Wednesday holiday → Thursday 10:00.
    assert.equal(
      approvalDueAt(new Date('2026-11-03T10:00:00+03:00'), calendar, tz).toISOString(),
      new Date('2026-11-05T10:00:00+03:00').toISOString(),
    );
    // Sent on Saturday: the whole of Monday.
    assert.equal(
      approvalDueAt(new Date('2026-11-28T12:00:00+03:00'), calendar, tz).toISOString(),
      new Date('2026-12-01T00:00:00+03:00').toISOString(),
    );
  });
});

describe('which handling decides', () => {
  it('goes by the approved version for scripted intents only', () => {
    assert.equal(effectiveHandling('answer', { handling: 'inquiry' }), 'inquiry');
    assert.equal(effectiveHandling('forward', { handling: 'answer' }), 'answer');
    assert.equal(effectiveHandling('answer', null), 'answer');
    assert.equal(effectiveHandling('operator', { handling: 'answer' }), 'operator');
  });
});

for (const backend of backends) {
  describe(`the answer studio on ${backend}`, () => {
    let db: TestDb;
    let kb: KnowledgeBaseReader;
    let editor: KbEditor;
    let clock = new Date('2026-11-27T15:00:00+03:00'); // a Friday
    const intent = 'health.appointment';
    const approver = { login: 'agency.minzdrav.ivanov2', agency: 'minzdrav' };

    before(async () => {
      db = await openTestDb(backend);
      await importKb(db.sql, [smallFixture()]);
      kb = createKnowledgeBase(db.sql);
      editor = createKbEditor(db.sql, { now: () => clock });
    });
    after(() => db?.drop());

    it('keeps the chat text, the card and the handling of a draft, and serves none of it before approval', async () => {
      await editor.retire(intent, 2); // the fixture's old draft
      const v3 = await editor.createDraft(intent, {
        speech: 'Записаться к врачу можно на портале госуслуг.',
        chat: 'Запишитесь на gosuslugi.ru или в регистратуре.',
        screen: 'Карточка: госуслуги, регистратура, оператор.',
        handling: 'answer',
        note: 'Добавлен портал',
        author: 'editor.petrova',
      });
      assert.equal(v3.version, 3);
      assert.equal(v3.chat, 'Запишитесь на gosuslugi.ru или в регистратуре.');
      assert.equal(v3.handling, 'answer');
      await assert.rejects(
        editor.createDraft(intent, { speech: 'a', screen: 'b', author: 'x', handling: 'bogus' as 'answer' }),
        (err) => isOtklikError(err) && err.code === 'VALIDATION_FAILED',
      );
      await editor.submitForApproval(intent, 3, 'editor.petrova');
      const served = await kb.approvedAnswer(intent);
      assert.equal(served?.version, 1);
      assert.equal(served?.chat, null);
      assert.equal(served?.handling, 'answer');
    });

    it("lists the waiting version for its agency's approvers with a diff, overdue after one working day", async () => {
      const friday = await pendingAnswers(db.sql, {
        now: new Date('2026-11-30T14:59:00+03:00'),
        agency: 'minzdrav',
      });
      assert.equal(friday.length, 1);
      const p = friday[0]!;
      assert.equal(p.version.author, 'editor.petrova');
      assert.equal(p.version.note, 'Добавлен портал');
      assert.equal(p.approved?.version, 1);
      assert.equal(p.overdue, false);
      assert.deepEqual(
        p.diff.speech.filter((d) => d.op !== 'same'),
        [
          { op: 'del', text: 'госуслуг или по телефону регистратуры.' },
          { op: 'add', text: 'госуслуг.' },
        ],
      );
      assert.equal((await pendingAnswers(db.sql, { now: clock, agency: 'other' })).length, 0);
      const monday = await pendingAnswers(db.sql, { now: new Date('2026-11-30T15:01:00+03:00') });
      assert.equal(monday[0]!.overdue, true);
      assert.deepEqual(await approvalFigures(db.sql, new Date('2026-11-30T15:01:00+03:00')), {
        pending: 1,
        overdue: 1,
        oldestSubmittedAt: p.version.submittedAt,
      });
      const events = await answerEvents(db.sql, new Date('2026-11-01T00:00:00Z'));
      assert.deepEqual(
        events.map((e) => [e.kind, e.intentId, e.version, e.agency]),
        [['submitted', intent, 3, 'minzdrav']],
      );
    });

    it('returns a version with the comment, the author edits and resubmits, the approver approves', async () => {
      clock = new Date('2026-11-30T10:00:00+03:00');
      const back = await editor.reject(intent, 3, approver, 'Укажите телефон регистратуры');
      assert.equal(back.status, 'draft');
      assert.equal(back.reviewNote, 'Укажите телефон регистратуры');
      assert.equal(back.returnedBy, approver.login);
      assert.equal(back.returnedAt?.toISOString(), clock.toISOString());
      const events = await answerEvents(db.sql, new Date('2026-11-01T00:00:00Z'));
      assert.deepEqual(
        events.map((e) => [e.kind, e.reviewNote]),
        [['returned', 'Укажите телефон регистратуры']],
      );
      await editor.updateDraft(intent, 3, {
        speech: 'Записаться к врачу можно на портале госуслуг или по телефону 122.',
        handling: 'inquiry',
      });
      clock = new Date('2026-11-30T11:00:00+03:00');
      await editor.submitForApproval(intent, 3, 'editor.petrova');
      const approved = await editor.approve(intent, 3, approver);
      assert.equal(approved.status, 'approved');
      const served = await kb.approvedAnswer(intent);
      assert.equal(served?.version, 3);
      assert.equal(served?.chat, 'Запишитесь на gosuslugi.ru или в регистратуре.');
      assert.equal(served?.handling, 'inquiry');
    });

    it('carries the chat text, the handling and the return through export and import', async () => {
      await editor.createDraft(intent, { speech: 'Ещё', screen: 'Ещё', author: 'editor.petrova' });
      await editor.submitForApproval(intent, 4, 'editor.petrova');
      await editor.reject(intent, 4, approver, 'Не нужно');
      const yaml = await exportKb(db.sql);
      assert.match(yaml, /chat: Запишитесь на gosuslugi\.ru или в регистратуре\./);
      assert.match(yaml, /handling: inquiry/);
      assert.match(yaml, /returned_by: agency\.minzdrav\.ivanov2/);
      await importKb(db.sql, [{ name: 'again.yaml', text: yaml }]);
      assert.equal(await exportKb(db.sql), yaml);
      const v4 = (await editor.versions(intent)).find((v) => v.version === 4)!;
      // A new draft takes the approved version's handling when the editor names none.
      assert.equal(v4.handling, 'inquiry');
      assert.equal(v4.reviewNote, 'Не нужно');
    });
  });
}
