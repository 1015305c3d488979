/**
 * «Качество» → «Чек-лист» in a real browser: an editor adds an item and retires another, a supervisor then
 * finds the new item (and not the retired one) on the scoring form of a call, sees the list without the
 * editing buttons, and an admin's retiring of the last offered item is refused with the server's message.
 * Screenshots at 1280 and 390 px were looked at by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { listAudit } from '../admin/audit.js';
import { listChecklist } from '../kb/checklist.js';
import { browserMissing } from './support/browser.js';
import { openQualityDesk, type QualityDesk } from './support/quality.js';

const password = 'пароль-для-теста';
const CALL = 'call-checklist-1';
const shots = process.env.QUALITY_SCREENSHOTS;

describe('the checklist is edited in «Качество» and used on the scoring form (real browser)', {
  skip: browserMissing,
}, () => {
  let desk: QualityDesk;
  let db: QualityDesk['db'];
  let base: string;
  let browser: Browser;
  const clock = { t: Date.parse('2026-03-02T07:00:00Z') };

  before(async () => {
    desk = await openQualityDesk({
      clock,
      callId: CALL,
      users: [
        { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.', password },
        { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password },
        { login: 'boss', role: 'admin', name: 'Администратор', password },
      ],
    });
    ({ db, base, browser } = desk);
  });
  after(() => desk?.close());

  async function signIn(login: string, name: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: name }).waitFor();
    await page.getByRole('link', { name: 'Качество' }).click();
    return page;
  }

  it('an editor adds an item and retires another', async () => {
    const page = await signIn('petrova', 'Петрова');
    const list = page.locator('#checklist-items');
    await list.getByText('Вежливость').waitFor();
    // An editor scores no calls: only the checklist, without tabs.
    assert.ok(
      await page.locator('#quality-root .tabs').isHidden(),
      await page.locator('#quality-root').innerHTML(),
    );
    const form = page.locator('#checklist-form');
    await form.getByLabel('Название').fill('Уточнил номер обращения');
    await form.getByLabel('Как оценивается').selectOption({ label: 'да / нет' });
    await form.getByLabel('Вес').fill('2');
    await form.getByRole('button', { name: 'Добавить пункт' }).click();
    await page.getByText('Пункт «Уточнил номер обращения» добавлен').waitFor();
    const added = list.locator('tr', { hasText: 'Уточнил номер обращения' });
    assert.deepEqual((await added.locator('td').allInnerTexts()).slice(0, 4), [
      '6',
      'Уточнил номер обращения',
      'да / нет, вес 2',
      'действует',
    ]);

    await list.locator('tr', { hasText: 'Вежливость' }).getByRole('button', { name: 'В архив' }).click();
    await page.getByText('Пункт «Вежливость» отправлен в архив').waitFor();
    await list
      .locator('tr.retired', { hasText: 'Вежливость' })
      .getByRole('button', { name: 'Вернуть' })
      .waitFor();

    // Editing an item: the form takes its values; the change is saved under the same id.
    await list
      .locator('tr', { hasText: 'Верная информация' })
      .getByRole('button', { name: 'Изменить' })
      .click();
    await form.getByLabel('Название').fill('Верная и полная информация');
    await form.getByRole('button', { name: 'Сохранить' }).click();
    await list
      .locator('tr[data-item="correct_information"]', { hasText: 'Верная и полная информация' })
      .waitFor();
    if (shots) await page.screenshot({ path: `${shots}/checklist-1280.png`, fullPage: true });

    const items = await listChecklist(db.sql, { withRetired: true });
    assert.deepEqual(
      items.map((i) => `${i.id}:${i.retired ? 'retired' : 'offered'}`),
      [
        'greeting:offered',
        'script_followed:offered',
        'correct_information:offered',
        'politeness:retired',
        'outcome_recorded:offered',
        'utochnil_nomer_obrashcheniya:offered',
      ],
    );
    assert.deepEqual(
      (await listAudit(db.sql, { action: 'checklist.add' })).map((a) => [a.login, a.object]),
      [['petrova', 'utochnil_nomer_obrashcheniya']],
    );
    assert.equal((await listAudit(db.sql, { action: 'checklist.set' })).length, 2);
    await page.close();
  });

  it('a supervisor then finds the new item on the scoring form, and the list without editing buttons', async () => {
    const page = await signIn('sidorova', 'Сидорова');
    await page
      .locator('#quality-calls tbody tr', { hasText: 'Иванова' })
      .getByRole('button', { name: 'Оценить' })
      .click();
    const form = page.locator('#quality-form');
    await form.getByLabel('Уточнил номер обращения').waitFor();
    assert.equal(await form.getByLabel('Вежливость').count(), 0, 'the retired item is not offered');
    await form.getByLabel('Приветствие по стандарту линии').selectOption({ label: 'да' });
    await form.getByLabel('Разговор по утверждённому скрипту').selectOption('3');
    await form.getByLabel('Верная и полная информация').selectOption('3');
    await form.getByLabel('Итог разговора записан').selectOption({ label: 'нет' });
    await form.getByLabel('Уточнил номер обращения').selectOption({ label: 'да' });
    await form.getByRole('button', { name: 'Сохранить оценку' }).click();
    // 1 + 3 + 3 + 0 + 2 of 10.
    await form.getByText('Оценка сохранена: 90 %').waitFor();

    await page.getByRole('tab', { name: 'Чек-лист' }).click();
    const list = page.locator('#checklist-items');
    await list.locator('tr', { hasText: 'Уточнил номер обращения' }).waitFor();
    assert.equal(await list.getByRole('button').count(), 0);
    assert.equal(await page.locator('#checklist-form').count(), 0);
    await page.close();
  });

  it('retiring the last offered item is refused with the server message (an admin, on a phone)', async () => {
    const page = await signIn('boss', 'Администратор', 390);
    await page.getByRole('tab', { name: 'Чек-лист' }).click();
    const list = page.locator('#checklist-items');
    for (const title of ['Приветствие', 'Разговор по', 'Верная и полная', 'Итог разговора']) {
      await list.locator('tr', { hasText: title }).getByRole('button', { name: 'В архив' }).click();
      await list.locator('tr.retired', { hasText: title }).waitFor();
    }
    await list
      .locator('tr', { hasText: 'Уточнил номер обращения' })
      .getByRole('button', { name: 'В архив' })
      .click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Чек-лист оценки: нужен хотя бы один действующий пункт' })
      .waitFor();
    assert.equal((await listChecklist(db.sql)).map((i) => i.id).join(), 'utochnil_nomer_obrashcheniya');
    const width = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth,
    );
    assert.ok(width <= 390, `no sideways scroll of the page: ${width}`);
    if (shots) await page.screenshot({ path: `${shots}/checklist-390.png`, fullPage: true });
    await page.close();
  });
});
