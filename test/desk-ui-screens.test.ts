import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, launchBrowser } from './support/browser.js';
import { type DeskEnv, openDeskEnv, password } from './support/desk.js';

/**
 * The desk's offer and the supervisor's screens in a real browser over the real desk API (test/support/desk.ts:
 * a real store, the shipped KB, the real operator queue): the wall, and the operators and queues set-up.
 */
describe('the desk offer, the wall and the set-up of operators and queues (real browser)', {
  skip: browserMissing,
}, () => {
  let env: DeskEnv;
  let browser: Browser;

  before(async () => {
    [env, browser] = await Promise.all([openDeskEnv('pglite'), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await env?.close();
  });

  async function signIn(login: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(env.base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: /./ }).waitFor();
    return page;
  }

  it('a supervisor sets up a queue and an operator with a skill and a tier, and removes one', async () => {
    const page = await signIn('sidorova');
    // A slow network (as on a loaded server): the lists arrive a second late. What the supervisor types
    // must not be lost to the page filling its defaults when they do.
    let delayed = false;
    await page.route('**/api/desk/queues', async (route) => {
      if (!delayed) {
        delayed = true;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      await route.continue();
    });
    await page.getByRole('link', { name: 'Операторы и очереди' }).click();
    const queueForm = page.locator('#queue-form');
    await queueForm.getByLabel('Код очереди').fill('health');
    await queueForm.getByLabel('Название').fill('Здравоохранение');
    await queueForm.getByLabel('Распределение вызовов').selectOption({ label: 'по порядку уровней' });
    await queueForm.getByLabel('Норматив ожидания, с').fill('90');
    await queueForm.getByRole('button', { name: 'Сохранить очередь' }).click();
    const queueRow = page.locator('#staff-queues tr[data-queue="health"]');
    await queueRow.waitFor();
    assert.match(await queueRow.innerText(), /по порядку уровней\s+1 мин 30 с/);
    const { body: queues } = await env.api('sidorova', 'GET', '/api/desk/queues');
    const health = queues.queues.find((q: { id: string }) => q.id === 'health');
    assert.equal(health.strategy, 'top-down');
    assert.equal(health.waitNormMs, 90_000);

    const form = page.locator('#operator-form');
    await form.getByLabel('Код оператора').fill('belova');
    await form.getByLabel('ФИО').fill('Белова Н. С.');
    await form.getByLabel('SIP URI телефона').fill('sip:105@pbx.local');
    await form.getByLabel('Здравоохранение', { exact: true }).first().check();
    const tier = form.locator('.tier[data-queue="health"]');
    await tier.getByRole('checkbox').check();
    await tier.getByLabel('уровень').fill('2');
    await form.getByRole('button', { name: 'Сохранить оператора' }).click();
    const row = page.locator('#staff-operators tr[data-operator="belova"]');
    await row.waitFor();
    assert.match(await row.innerText(), /sip:105@pbx\.local/);
    assert.match(await row.innerText(), /Здравоохранение \(2\/1\)/);
    const { body: op } = await env.api('sidorova', 'GET', '/api/desk/operators');
    const belova = op.operators.find((o: { id: string }) => o.id === 'belova');
    assert.deepEqual(belova.skills, ['health']);
    assert.deepEqual(
      belova.queues.map((q: { queueId: string; level: number }) => [q.queueId, q.level]),
      [['health', 2]],
    );

    page.once('dialog', (dialog) => dialog.accept());
    await row.getByRole('button', { name: 'Удалить' }).click();
    await row.waitFor({ state: 'detached' });

    // A queue of its own goes too; the default queue has no such button.
    await queueForm.getByLabel('Код очереди').fill('spare');
    await queueForm.getByLabel('Название').fill('Резервная');
    await queueForm.getByRole('button', { name: 'Сохранить очередь' }).click();
    const spare = page.locator('#staff-queues tr[data-queue="spare"]');
    page.once('dialog', (dialog) => dialog.accept());
    await spare.getByRole('button', { name: 'Удалить' }).click();
    await spare.waitFor({ state: 'detached' });
    assert.equal(
      await page
        .locator('#staff-queues tr[data-queue="default"]')
        .getByRole('button', { name: 'Удалить' })
        .count(),
      0,
    );
    await page.close();
  });

  it('the wall shows a waiting chat and the operators; the supervisor moves the chat and sends an operator on break', async () => {
    // The queue to move to (the set-up test above saves the same one through the page).
    await env.api('sidorova', 'PUT', '/api/desk/queues/health', { name: 'Здравоохранение' });
    await env.queued('chat-wall-1', 'text');
    await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' });
    const page = await signIn('sidorova');
    await page.getByRole('link', { name: 'Монитор' }).click();
    const call = page.locator('#wall-calls tr[data-call="chat-wall-1"]');
    await call.waitFor();
    assert.match(await call.innerText(), /чат/);
    assert.match(await call.innerText(), /ожидает/);
    assert.match(await page.locator('#wall-figures').innerText(), /Ждут сейчас\s+1/);

    await call.getByLabel('Очередь').selectOption('health');
    await call.getByRole('button', { name: 'Перевести' }).click();
    await page.locator('#wall-calls tr[data-call="chat-wall-1"]', { hasText: 'Здравоохранение' }).waitFor();

    const operator = page.locator('#wall-operators tr[data-operator="kuznetsov"]');
    await operator.filter({ hasText: 'доступен' }).waitFor();
    await operator.getByLabel('Новое состояние').selectOption('break');
    await operator.getByLabel('Причина перерыва').fill('обед');
    await operator.getByRole('button', { name: 'Изменить' }).click();
    await page
      .locator('#wall-operators tr[data-operator="kuznetsov"]', { hasText: 'перерыв: обед' })
      .waitFor();
    assert.equal((await env.queue.operator('kuznetsov'))?.state, 'break');
    await page.close();
  });

  it('an offer on the desk shows what the bot learned, counts down its ring, and a decline keeps the call waiting', async () => {
    await env.db.sql.exec('DELETE FROM telephony_queue_calls');
    const page = await signIn('kuznetsov');
    await page.getByRole('link', { name: 'Рабочее место' }).click();
    await page.getByRole('button', { name: 'Доступен' }).click();
    await page.locator('#desk-state').filter({ hasText: 'доступен' }).waitFor();
    await env.queued('chat-offer-1', 'text');
    await env.queue.assignNext({ channel: 'text' });
    const offer = page.locator('#desk-offers .offer[data-call="chat-offer-1"]');
    await offer.getByText('Сущности:').waitFor();
    const text = await offer.innerText();
    assert.match(text, /Хочу записаться к врачу, позовите оператора/);
    assert.match(text, /health\.appointment — 91 %/);
    assert.match(text, /date: завтра \(2026-03-03\)/);
    assert.match(text, /Бот уже ответил: .*версия 1/);
    // The masked number: operators see the conversation, not the number.
    assert.match(text, /Абонент: \+?7?\*+67/);
    assert.match((await offer.locator('svg.ring text').textContent()) ?? '', /^\d+$/);
    await offer.getByRole('button', { name: 'Отклонить' }).click();
    await offer.waitFor({ state: 'detached' });
    const { body } = await env.api('sidorova', 'GET', '/api/desk/wall');
    const waiting = body.queues.flatMap((q: { calls: Array<{ callId: string; state: string }> }) => q.calls);
    assert.equal(waiting.find((c: { callId: string }) => c.callId === 'chat-offer-1')?.state, 'waiting');
    await page.close();
  });

  it('an operator’s menu has the desk but neither the wall nor the set-up', async () => {
    const page = await signIn('kuznetsov');
    await page.getByRole('link', { name: 'Рабочее место' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Монитор' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Операторы и очереди' }).count(), 0);
    const editor = await signIn('petrova');
    assert.equal(await editor.getByRole('link', { name: 'Рабочее место' }).count(), 0);
    await page.close();
    await editor.close();
  });
});
