/**
 * «Обучение» in a real browser, as an editor: retrain and watch the progress, read the evaluation (accuracy,
 * per-intent F1, confusion pairs); a model trained from a deliberately damaged set (the phrases of two intents
 * swapped) is not activated by itself and the page says why; the editor confirms it, then rolls back to the
 * first model. A supervisor reads the page without the buttons. Screenshots at 1280 and 390 px were looked at.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { listAudit } from '../admin/audit.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { nluModelsPlugin } from '../admin/plugins/nlu-models.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { listModels } from '../nlu/registry.js';
import { createNluTrainer, type NluTrainer } from '../nlu/trainer.js';
import { OperatorQueue } from '../telephony/queue.js';
import { browserMissing, launchBrowser, signInPage } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';

const password = 'пароль-для-теста';
const shots = process.env.TRAINING_SCREENSHOTS;

describe('«Обучение»: retrain, evaluation, a worse model held back, rollback (real browser)', {
  skip: browserMissing,
  // Two trainings in a worker, each a few seconds on a quiet machine, much more on a shared one.
  timeout: 900_000,
}, () => {
  let db: TestDb;
  let app: TypedApp;
  let trainer: NluTrainer;
  let base: string;
  let browser: Browser;
  let page: Page;
  const now = () => new Date('2026-03-02T07:00:00Z');

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    await addUser(db.sql, { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.', password });
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    const kb = createKnowledgeBase(db.sql);
    trainer = createNluTrainer({ sql: db.sql, kb, log: silentLogger, folds: 3, now });
    const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
    const health = async () => ({ status: 'ok', components: { store: { status: 'ready' } } });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(callsPlugin, { sql: db.sql, queue, health, timeZone: kb.timezone, now }),
        adminArea(nluModelsPlugin, { sql: db.sql, trainer, now }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await trainer?.close();
    await app?.close();
    await db?.drop();
  });

  async function signIn(login: string, name: string, width = 1280, height = 900): Promise<Page> {
    const p = await signInPage(browser, base, { login, password, name, width, height });
    await p.getByRole('link', { name: 'Обучение' }).click();
    await p.locator('#training-models').waitFor();
    return p;
  }

  const row = (id: number) => page.locator(`#training-models tr[data-model="${id}"]`);

  it('an editor sees the first model, trained at start, with its evaluation', async () => {
    // A fresh install trains its first model when it starts (nlu/service.ts); here the trainer does it.
    const first = await trainer.start({ trigger: 'auto' });
    assert.equal((await first!.done).status, 'active');
    page = await signIn('petrova', 'Петрова');
    await page.getByText('хуже действующей', { exact: false }).first().waitFor();
    await row(1).getByText('действует').waitFor();
    await page.getByRole('heading', { name: 'Оценка модели №1' }).waitFor();
    const intents = page.locator('#training-intents');
    await intents.getByRole('cell', { name: 'health.appointment', exact: true }).waitFor();
    assert.match(
      await page.locator('#training-details').innerText(),
      /Контрольная выборка \(\d+ фраз\): точность \d/,
    );
    assert.match(await row(1).innerText(), /\d+,\d %/);
  });

  it('an editor retrains from a damaged set: progress, then the model is held back with the reason', async () => {
    // An editor elsewhere swaps the phrases of two intents (the damaged training set).
    const kbIntents = await createKnowledgeBase(db.sql).intents();
    const phrasesOf = (id: string) => kbIntents.find((i) => i.id === id)!.phrases;
    const editor = createKbEditor(db.sql);
    await editor.setPhrases('health.appointment', phrasesOf('health.vaccination'));
    await editor.setPhrases('health.vaccination', phrasesOf('health.appointment'));

    await page.getByRole('button', { name: 'Переобучить модель' }).click();
    // The progress is shown while the worker trains; calls are served by model 1 meanwhile.
    await page
      .locator('#training-progress-text')
      .filter({ hasText: /Модель №2: (подготовка фраз|перекрёстная проверка|обучение|проверка)/ })
      .waitFor();
    assert.ok(await page.locator('#training-progress').isVisible());
    await row(2).getByText('обучается').waitFor();
    if (shots) await page.screenshot({ path: `${shots}-progress-1280.png`, fullPage: true });
    await row(2).getByText('готова, не действует').waitFor({ timeout: 600_000 });
    const reason = page.locator('#training-models .training-reason').first();
    assert.match(await reason.innerText(), /хуже действующей модели на контрольной выборке: точность/);
    assert.equal(await row(1).getByText('действует').count(), 1);
    await row(2).getByRole('button', { name: 'Оценка' }).click();
    await page.getByRole('heading', { name: 'Оценка модели №2' }).waitFor();
    await page
      .locator('#training-confusions-heldout')
      .getByText('health.appointment → health.vaccination')
      .waitFor();
    if (shots) {
      await page.screenshot({ path: `${shots}-worse-1280.png`, fullPage: true });
      const phone = await signIn('petrova', 'Петрова', 390, 844);
      await phone.locator('#training-models tr[data-model="2"]').waitFor();
      await phone.screenshot({ path: `${shots}-worse-390.png`, fullPage: true });
      await phone.close();
    }
  });

  it('the editor confirms the worse model', async () => {
    // Without the confirmation the API refuses it, naming the reason.
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'petrova', password }),
    });
    const { token } = (await login.json()) as { token: string };
    const refused = await fetch(`${base}/api/nlu/models/2/activate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({}),
    });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { message: string }).message, /Подтвердите активацию/);
    await row(2).getByRole('button', { name: 'Подтвердить и включить' }).click();
    await row(2).getByText('действует').waitFor();
    await row(1).getByText('в архиве').waitFor();
    const [damaged] = await listModels(db.sql);
    assert.equal(damaged!.status, 'active');
    assert.equal(damaged!.activatedBy, 'petrova');
  });

  it('the editor rolls back to the first model', async () => {
    await row(1).getByRole('button', { name: 'Вернуть эту версию' }).click();
    await row(1).getByText('действует').waitFor();
    await row(2).getByText('в архиве').waitFor();
    const audit = await listAudit(db.sql, { login: 'petrova' });
    const actions = audit.map((a) => a.action);
    for (const action of ['nlu.train', 'nlu.activate', 'nlu.rollback'])
      assert.ok(actions.includes(action), actions.join(', '));
    if (shots) await page.screenshot({ path: `${shots}-rollback-1280.png`, fullPage: true });
  });

  it('a supervisor reads the page without the buttons', async () => {
    const p = await signIn('sidorova', 'Сидорова');
    await p.locator('#training-models tr[data-model="1"]').getByText('действует').waitFor();
    assert.equal(await p.getByRole('button', { name: 'Переобучить модель' }).count(), 0);
    assert.equal(await p.getByRole('button', { name: 'Вернуть эту версию' }).count(), 0);
    await p.close();
  });
});
