import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { addUser } from '../admin/users.js';
import { createCliContext } from '../cli/context.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { embeddedEnv, type ServeProcess, startServe } from './support/serve.js';

const password = 'пароль-оператора-122';

describe('the operator desk in a real browser on `otklik serve`', {
  skip: browserMissing,
  timeout: 150_000,
}, () => {
  let serve: ServeProcess;
  let browser: Browser;

  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otklik-desk-ui-'));
    // Whatever the hour, the chat reaches the operator: the line is open while one is signed in.
    const env = embeddedEnv(dataDir);
    // The staff users, written to the data dir's store before serve opens it (what `otklik admin
    // user-add` does, without two more node start-ups).
    const cli = createCliContext({ ...process.env, ...env });
    const sql = await cli.store();
    await addUser(sql, {
      login: 'kuznetsov',
      role: 'operator',
      name: 'Кузнецов Д. А.',
      agency: null,
      password,
    });
    await addUser(sql, {
      login: 'sidorova',
      role: 'supervisor',
      name: 'Сидорова А. В.',
      agency: null,
      password,
    });
    await cli.close();
    [serve, browser] = await Promise.all([startServe(env), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    if (serve) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  });

  async function signIn(login: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(serve.base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: /./ }).waitFor();
    return page;
  }

  it('an operator takes a citizen’s chat, answers, closes it with an outcome; the supervisor sees it', async () => {
    const desk = await signIn('kuznetsov');
    // An operator's menu: the desk, not the wall nor the line's set-up.
    assert.equal(await desk.getByRole('link', { name: 'Монитор' }).count(), 0);
    assert.equal(await desk.getByRole('link', { name: 'Операторы и очереди' }).count(), 0);
    await desk.getByRole('link', { name: 'Рабочее место' }).click();
    await desk.getByRole('button', { name: 'Доступен' }).click();
    await desk.locator('#desk-state').filter({ hasText: 'доступен' }).waitFor();

    const citizen = await browser.newPage();
    await citizen.goto(`${serve.base}/chat.html`);
    await citizen.locator('.msg.bot').first().waitFor();
    await citizen.getByLabel('Ваш вопрос').fill('позовите оператора');
    await citizen.getByRole('button', { name: 'Отправить' }).click();

    // The offer: the channel, the bot's transcript, and the ring to accept it.
    const offer = desk.locator('#desk-offers .offer').filter({ hasText: 'позовите оператора' });
    await offer.waitFor({ timeout: 30_000 });
    const offerText = await offer.innerText();
    assert.match(offerText, /Входящий чат/);
    assert.match(offerText, /Канал: чат/);
    assert.match(offerText, /Бот:/);
    await offer.getByRole('button', { name: 'Принять' }).click();

    const conversation = desk.locator('#desk-conversation .conversation');
    await conversation.getByText('позовите оператора').first().waitFor();
    await conversation
      .getByLabel('Сообщение гражданину')
      .fill('Здравствуйте, я оператор Дмитрий. Чем помочь?');
    await conversation.getByRole('button', { name: 'Отправить' }).click();
    await citizen.locator('#log').getByText('я оператор Дмитрий').waitFor();
    await conversation.locator('.who-operator').filter({ hasText: 'я оператор Дмитрий' }).waitFor();

    // The citizen writes back: the desk shows it live.
    await citizen.getByLabel('Ваш вопрос').fill('как записаться к терапевту');
    await citizen.getByRole('button', { name: 'Отправить' }).click();
    await conversation.locator('.who-caller').filter({ hasText: 'как записаться к терапевту' }).waitFor();

    await conversation.getByLabel('Заметка').fill('Объяснил запись через Госуслуги');
    await conversation.getByLabel('Итог').selectOption({ label: 'Вопрос решён' });
    await conversation.getByRole('button', { name: 'Завершить' }).click();
    await conversation.waitFor({ state: 'detached' });
    await citizen
      .locator('#log')
      .getByText(/Оператор завершил разговор/)
      .waitFor();

    const wall = await signIn('sidorova');
    await wall.getByRole('link', { name: 'Монитор' }).click();
    const operatorRow = wall.locator('#wall-operators tbody tr', { hasText: 'Кузнецов Д. А.' });
    await operatorRow.waitFor();
    const answered = wall.locator('#wall-figures .card').filter({ hasText: /^Принято/ });
    assert.match(await answered.innerText(), /Принято\s+1/);

    await wall.getByRole('link', { name: 'Звонки' }).click();
    await wall.locator('#calls-table tbody tr.clickable').first().click();
    const card = wall.locator('#call-detail .operator-close');
    await card.waitFor();
    const cardText = await card.innerText();
    assert.match(cardText, /Оператор\s+Кузнецов Д\. А\./);
    assert.match(cardText, /Итог оператора\s+Вопрос решён/);
    assert.match(cardText, /Заметка\s+Объяснил запись через Госуслуги/);
    await wall.locator('#call-detail').getByText('я оператор Дмитрий').waitFor();
  });
});
