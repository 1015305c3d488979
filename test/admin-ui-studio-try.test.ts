/**
 * «Проверка фразы» in a real browser, as the knowledge editor who uses it: she opens the page from the menu,
 * types a caller's phrase and sees the intent with its title and confidence, the approved version the bot
 * reads and its text; for an intent whose approved answer was retired she sees that there is none and that the
 * bot offers an operator, and on a Sunday evening that the agency is closed and the bot offers an inquiry; a
 * recording without an installed ASR model is refused in Russian. An operator has no such menu item.
 * With STUDIO_TRY_SCREENSHOTS=dir the page is shot at 1280 and 390 px wide.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { kbPlugin } from '../admin/plugins/kb.js';
import { studioTryPlugin } from '../admin/plugins/studio-try.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { tone } from '../media/audio/pcm.js';
import { encodeWav } from '../media/audio/wav.js';
import { createVoskEngine } from '../speech/asr/index.js';
import { type DialogKnowledge, openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { clockFrom, OFFICE_HOURS } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';

const password = 'пароль-для-теста';
const shots = process.env.STUDIO_TRY_SCREENSHOTS;

describe('«Проверка фразы»: an editor checks what the bot would say (real browser)', {
  skip: browserMissing,
}, () => {
  let db: TestDb;
  let engine: DialogKnowledge;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  const work = mkdtempSync(join(tmpdir(), 'otklik-ui-try-'));
  const asr = createVoskEngine({ modelPath: join(work, 'no-vosk-model'), log: silentLogger });

  before(async () => {
    db = await openTestDb('postgres');
    engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir: join(work, 'nlu') });
    await addUser(db.sql, { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.', password });
    await addUser(db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.', password });
    // Social support has no approved script any more: its only approved version is retired.
    const editor = createKbEditor(db.sql);
    const approved = (await editor.versions('social.benefits')).find((v) => v.status === 'approved');
    await editor.retire('social.benefits', approved!.version);
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(kbPlugin, { sql: db.sql }),
        adminArea(studioTryPlugin, {
          kb: engine.kb,
          nlu: engine.nlu,
          asr,
          log: silentLogger,
          now: clockFrom(OFFICE_HOURS),
        }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await engine?.close();
    asr.close();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  async function signIn(login: string, name: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: width > 600 ? 900 : 844 } });
    await page.goto(base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: name }).waitFor();
    return page;
  }

  async function check(page: Page, phrase: string, at = ''): Promise<void> {
    const form = page.locator('#try-form');
    await form.getByLabel('Фраза абонента').fill(phrase);
    await form.getByLabel('Время звонка').fill(at);
    await form.getByRole('button', { name: 'Проверить' }).click();
    await page.locator('#try-phrase', { hasText: phrase }).waitFor();
  }

  it('an approved answer: the intent, its confidence and the version and text the bot reads', async () => {
    const page = await signIn('petrova', 'Петрова');
    await page.getByRole('link', { name: 'Проверка фразы' }).click();
    await page.getByRole('heading', { name: 'Проверка фразы' }).waitFor();
    await check(page, 'Хочу записаться к терапевту');
    assert.equal(await page.locator('#try-normalized').innerText(), 'хочу записаться к терапевту');
    assert.match(
      await page.locator('#try-intent').innerText(),
      /^Запись на приём к врачу \(health\.appointment\), уверенность \d+ %/,
    );
    assert.match(
      await page.locator('#try-answer').innerText(),
      /^Согласованная версия health\.appointment@v1 \(согласовал agency\.minzdrav\.ivanov, /,
    );
    assert.equal(
      await page.locator('#try-end').innerText(),
      'Прочитает согласованный ответ и спросит, остались ли вопросы',
    );
    const says = page.locator('#try-says li');
    assert.match(await says.nth(0).innerText(), /^ответ health\.appointment@v1 Записаться к терапевту/);
    assert.equal(await says.nth(1).innerText(), 'подсказка anything_else Остались ли у вас вопросы?');
    assert.match(
      await page.locator('#try-agency').innerText(),
      /^Горячая линия министерства здравоохранения: работает, до /,
    );
    if (shots) {
      await page.screenshot({ path: join(shots, 'tryit-answer-1280.png'), fullPage: true });
    }
    await page.close();
  });

  it('no approved answer: the bot says so and offers an operator, after hours an inquiry', async () => {
    const page = await signIn('petrova', 'Петрова');
    await page.getByRole('link', { name: 'Проверка фразы' }).click();
    await check(page, 'какие пособия положены многодетным');
    assert.match(await page.locator('#try-intent').innerText(), /^Социальная поддержка \(social\.benefits\)/);
    assert.equal(
      await page.locator('#try-answer').innerText(),
      'Согласованного ответа нет — бот предложит оператора или обращение',
    );
    assert.equal(await page.locator('#try-end').innerText(), 'Переведёт разговор на оператора');
    const first = await page.locator('#try-says li').nth(0).innerText();
    assert.match(
      first,
      /^подсказка answer_unavailable По этому вопросу согласованный ответ пока не подготовлен/,
    );

    // Sunday 20:00 in the region: the agency and the operators are closed; the bot offers an inquiry.
    await check(page, 'какие пособия положены многодетным', '2026-11-29T20:00');
    assert.equal(
      await page.locator('#try-end').innerText(),
      'Предложит зарегистрировать обращение для обратного звонка',
    );
    assert.match(
      await page.locator('#try-agency').innerText(),
      /^Центр социальной поддержки населения: не работает, откроется пн, 30 ноября(,| в) 09:00$/,
    );
    assert.match(await page.locator('#try-operators').innerText(), /^недоступны: нерабочее время/);
    const says = await page.locator('#try-says li').allInnerTexts();
    assert.deepEqual(
      says.map((s) => s.split(' ').slice(0, 2).join(' ')),
      ['подсказка answer_unavailable', 'подсказка after_hours', 'подсказка inquiry_offer'],
    );
    if (shots) {
      await page.screenshot({ path: join(shots, 'tryit-unapproved-1280.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(shots, 'tryit-unapproved-390.png'), fullPage: true });
    }

    // A recording where no ASR model is installed: refused in Russian, the phrase can still be typed.
    await page.locator('#try-audio-form input[type=file]').setInputFiles({
      name: 'фраза.wav',
      mimeType: 'audio/wav',
      buffer: encodeWav(tone(8000, 300, 1000)),
    });
    await page.getByRole('button', { name: 'Распознать запись' }).click();
    await page.locator('#try-error', { hasText: 'Модель распознавания речи не установлена' }).waitFor();
    if (shots) await page.screenshot({ path: join(shots, 'tryit-no-asr-390.png'), fullPage: true });
    await page.close();
  });

  it('a phone-width editor sees the result in one column; an operator has no such menu item', async () => {
    const phone = await signIn('petrova', 'Петрова', 390);
    await phone.getByRole('link', { name: 'Проверка фразы' }).click();
    await check(phone, 'хочу пожаловаться на поликлинику');
    assert.equal(await phone.locator('#try-end').innerText(), 'Соединит с ведомством');
    const width = await phone.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth,
    );
    assert.ok(width <= 390, `the page is ${width} px wide on a 390 px phone`);
    if (shots) await phone.screenshot({ path: join(shots, 'tryit-forward-390.png'), fullPage: true });
    await phone.close();

    const operator = await signIn('kuznetsov', 'Кузнецов');
    assert.equal(await operator.getByRole('link', { name: 'Проверка фразы' }).isVisible(), false);
    await operator.close();
  });
});
