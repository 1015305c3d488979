/**
 * «Качество» in a real browser: a supervisor opens a call Иванова took, listens to its recording with the
 * transcript beside the checklist, scores it, and sees the score in Иванова's figures for the day (calls,
 * AHT, wrap-up, share scored, mean score, survey). Screenshots at 1280 and 390 px were looked at by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { listAudit } from '../admin/audit.js';
import { callScores } from '../calls/quality.js';
import { browserMissing } from './support/browser.js';
import { IVANOVA, openQualityDesk, type QualityDesk } from './support/quality.js';

const password = 'пароль-для-теста';
const CALL = 'call-quality-1';

describe('a supervisor scores a call in «Качество» (real browser)', { skip: browserMissing }, () => {
  let desk: QualityDesk;
  let db: QualityDesk['db'];
  let base: string;
  let browser: Browser;
  const clock = { t: Date.parse('2026-03-02T07:00:00Z') };

  before(async () => {
    desk = await openQualityDesk({
      clock,
      callId: CALL,
      users: [{ login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password }],
      onTopic: true,
    });
    ({ db, base, browser } = desk);
  });
  after(() => desk?.close());

  async function signIn(width: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(base);
    await page.getByLabel('Логин').fill('sidorova');
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: 'Сидорова' }).waitFor();
    await page.getByRole('link', { name: 'Качество' }).click();
    // The period is the test's day (the server's clock is the test's), not the browser's today.
    await page.locator('#quality-period input[name=from]').fill('2026-03-02');
    await page.locator('#quality-period input[name=to]').fill('2026-03-02');
    await page.getByRole('button', { name: 'Показать' }).click();
    return page;
  }

  it('scores the call with its recording and transcript beside the checklist, then sees it in the figures', async () => {
    const page = await signIn(1280);
    const row = page.locator('#quality-calls tbody tr', { hasText: 'Иванова' });
    await row.getByRole('button', { name: 'Оценить' }).click();
    const media = page.locator('.quality-media');
    const form = page.locator('#quality-form');
    await media.getByText('Оператор Иванова, слушаю вас').waitFor();
    // Side by side at 1280 px: the recording and transcript on the left, the checklist on the right.
    const [m, f] = [await media.boundingBox(), await form.boundingBox()];
    assert.ok(
      m && f && m.x + m.width <= f.x + 1 && Math.abs(m.y - f.y) < 40,
      `side by side: ${JSON.stringify({ m, f })}`,
    );
    await media.getByRole('button', { name: 'Прослушать' }).click();
    await media.locator('audio').waitFor();

    await form.getByLabel('Приветствие по стандарту линии').selectOption({ label: 'да' });
    await form.getByLabel('Разговор по утверждённому скрипту').selectOption('3');
    await form.getByLabel('Верная информация').selectOption('2');
    await form.getByLabel('Вежливость').selectOption('2');
    await form.getByLabel('Итог разговора записан').selectOption({ label: 'да' });
    await form.getByLabel('Комментарий').fill('Срок подачи назван неточно');
    await assertText(form.locator('#quality-total'), '90 %');
    await form.getByRole('button', { name: 'Сохранить оценку' }).click();
    await form.getByText('Оценка сохранена: 90 %').waitFor();

    const figures = page.locator('#quality-operators tbody tr[data-operator="ivanova"]');
    await figures.filter({ hasText: '90 %' }).waitFor();
    assert.deepEqual(await figures.locator('td').allInnerTexts(), [
      IVANOVA.name,
      '1',
      '3 мин 00 с',
      '30 с',
      '1 (100 %)',
      '90 %',
      '5 (1)',
    ]);
    await page.locator('#quality-topics tbody tr', { hasText: '90 %' }).waitFor();

    const [score] = await callScores(db.sql, CALL);
    assert.equal(score?.operatorId, IVANOVA.id);
    assert.equal(score?.scorer, 'sidorova');
    assert.equal(score?.total, 90);
    assert.equal(score?.comment, 'Срок подачи назван неточно');
    assert.equal(score?.at.getTime(), clock.t);
    const audit = await listAudit(db.sql, { action: 'call.score' });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.object, CALL);
    assert.ok((await listAudit(db.sql, { action: 'recording.listen' })).length >= 1, 'the listen is audited');
    if (process.env.QUALITY_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.QUALITY_SCREENSHOTS}/quality-1280.png`, fullPage: true });
    await page.close();
  });

  it('the call card opens the same scoring screen («Оценить по чек-листу»), with the earlier score', async () => {
    const page = await signIn(1280);
    await page.getByRole('link', { name: 'Звонки' }).click();
    await page.locator(`#calls-table tr[data-id="${CALL}"]`).click();
    await page.getByRole('link', { name: 'Оценить по чек-листу' }).click();
    const form = page.locator('#quality-form');
    await form.getByText('Прежние оценки: 90 % (sidorova').waitFor();
    await page.locator('.quality-media').getByText('Оператор Иванова, слушаю вас').waitFor();
    await page.close();
  });

  it('on a phone (390 px) the checklist comes under the recording and transcript', async () => {
    const page = await signIn(390);
    await page
      .locator('#quality-calls tbody tr', { hasText: 'Иванова' })
      .getByRole('button', { name: 'Оценить' })
      .click();
    const media = page.locator('.quality-media');
    await media.getByText('Оператор Иванова, слушаю вас').waitFor();
    const [m, f] = [await media.boundingBox(), await page.locator('#quality-form').boundingBox()];
    assert.ok(m && f && f.y >= m.y + m.height - 1, 'stacked');
    const width = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth,
    );
    assert.ok(width <= 390, `no sideways scroll of the page: ${width}`);
    if (process.env.QUALITY_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.QUALITY_SCREENSHOTS}/quality-390.png`, fullPage: true });
    await page.close();
  });
});

async function assertText(locator: import('playwright-core').Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).waitFor();
}
