/**
 * «История базы знаний» in a real browser, as an editor: a prompt she changed is listed with her login, the
 * change names the prompt, the YAML of that state is there, and restoring the state before brings the old text
 * back (the restore is a new entry). An approver reads the history but has no restore button.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { type FullApp, openFullApp, STAFF_PASSWORD } from './support/full-app.js';

describe('the KB history page (real browser)', { skip: browserMissing }, () => {
  let full: FullApp;
  let browser: Browser;
  let original: string | null;

  before(async () => {
    full = await openFullApp();
    browser = await launchBrowser();
    const token = await full.signIn('petrova', 'editor');
    await full.signIn('ivanov', 'approver');
    original = await createKnowledgeBase(full.env.db.sql).prompt('goodbye');
    const res = await fetch(`${full.base}/api/kb/prompts/goodbye`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ text: 'До свидания, берегите себя!' }),
    });
    assert.equal(res.status, 200, await res.text());
  });
  after(async () => {
    await browser?.close();
    await full?.close();
  });

  async function open(login: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(full.base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: login }).waitFor();
    await page.getByRole('link', { name: 'История базы' }).click();
    return page;
  }

  it('an editor sees who changed what and restores the state before', async () => {
    const page = await open('petrova');
    const row = page.locator('#history-table tr', { hasText: 'фраза бота сохранена' });
    await row.waitFor();
    assert.match(await row.innerText(), /petrova[\s\S]*фраза бота сохранена goodbye/);
    await row.click();
    const detail = page.locator('#history-detail');
    await detail.getByText('фразы бота').waitFor();
    assert.match(await detail.innerText(), /изменено: goodbye/);
    assert.match((await detail.locator('pre.yaml').textContent()) ?? '', /До свидания, берегите себя!/);
    // The state before: the seed's.
    await page.locator('#history-table tr', { hasText: 'загружена учебная база' }).click();
    await detail.getByRole('button', { name: /Восстановить версию/ }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await detail.getByRole('button', { name: /Восстановить версию/ }).click();
    await page.locator('#history-status').filter({ hasText: 'восстановлена' }).waitFor();
    await page.locator('#history-table tr', { hasText: 'восстановление версии' }).waitFor();
    assert.equal(await createKnowledgeBase(full.env.db.sql).prompt('goodbye'), original);
    await page.close();
  });

  it('an approver reads the history without a restore button', async () => {
    const page = await open('ivanov');
    await page.locator('#history-table tr', { hasText: 'фраза бота сохранена' }).click();
    await page.locator('#history-detail').getByText('фразы бота').waitFor();
    assert.equal(await page.getByRole('button', { name: /Восстановить версию/ }).count(), 0);
    await page.close();
  });
});
