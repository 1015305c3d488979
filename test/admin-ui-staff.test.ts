import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { callsPlugin } from '../admin/plugins/calls.js';
import { deskPlugin } from '../admin/plugins/desk.js';
import { incidentsPlugin } from '../admin/plugins/incidents.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { kbPlugin } from '../admin/plugins/kb.js';
import { usersPlugin } from '../admin/plugins/users.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser, type Role } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { OperatorQueue } from '../telephony/queue.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { clockFrom, OFFICE_HOURS } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';

const STAFF_PASSWORD = 'пароль-сотрудника-линии';

/**
 * «Сотрудники», «Журнал действий» and each role's start, in a real browser (the areas those pages and the
 * landing pages use, on the test's office-hours clock): the admin
 * creates an account, disables it, unlocks it after failed sign-ins and resets its password; a supervisor
 * reads the audit log filtered; every role lands on the page of its work and sees exactly its menu.
 */
const staff: Array<[string, Role, string, string | null]> = [
  ['boss', 'admin', 'Белов Админ Иванович', null],
  ['sidorova', 'supervisor', 'Сидорова А. В.', null],
  ['petrova', 'editor', 'Петрова Е. Н.', null],
  ['ivanov', 'approver', 'Иванов П. С.', 'minzdrav'],
  ['kuznetsov', 'operator', 'Кузнецов Д. А.', null],
];

const allLinks = [
  'Рабочее место',
  'Монитор',
  'Обзор',
  'Звонки',
  'Обращения',
  'База знаний',
  'Ответы',
  'Темы и намерения',
  'Обучение',
  'Входящие фразы',
  'Проверка фразы',
  'Сценарии и меню',
  'Справочники',
  'История базы',
  'Инциденты',
  'Отчёты',
  'Качество',
  'Операторы и очереди',
  'Сотрудники',
  'Журнал действий',
];
/** The knowledge studio's pages an approver may open (she reads, checks phrases and approves). */
const approverLinks = [
  'База знаний',
  'Ответы',
  'Темы и намерения',
  'Проверка фразы',
  'Сценарии и меню',
  'Справочники',
  'История базы',
];

describe('staff accounts, the audit log and each role’s start page in the browser', {
  skip: browserMissing,
}, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    for (const [login, role, name, agency] of staff)
      await addUser(db.sql, { login, role, name, agency, password: STAFF_PASSWORD });
    const now = clockFrom(OFFICE_HOURS);
    const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
    const kb = createKnowledgeBase(db.sql);
    app = await build({
      sql: db.sql,
      log: silentLogger,
      now,
      plugins: [
        adminArea(usersPlugin, { sql: db.sql, now }),
        adminArea(kbPlugin, { sql: db.sql }),
        adminArea(incidentsPlugin, { sql: db.sql, now }),
        adminArea(callsPlugin, { sql: db.sql, queue, health: async () => ({}), timeZone: kb.timezone, now }),
        adminArea(inquiriesPlugin, { sql: db.sql, now }),
        adminArea(deskPlugin, { sql: db.sql, queue, kb, timeZone: kb.timezone, now }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
  });

  async function open(width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(base);
    return page;
  }

  async function signIn(page: Page, login: string, password = STAFF_PASSWORD): Promise<void> {
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
  }

  async function signedIn(login: string, name: string): Promise<Page> {
    const page = await open();
    await signIn(page, login);
    await page.locator('#whoami').filter({ hasText: name }).waitFor();
    return page;
  }

  const navLinks = async (page: Page) =>
    (await page.locator('#nav a[data-page]:visible').allInnerTexts()).map((t) => t.trim());

  it('each role lands on the page of its work and sees only the menu items it may open', async () => {
    const expected: Record<string, { hash: string; heading: string; links: string[] }> = {
      boss: { hash: '#users', heading: 'Сотрудники', links: allLinks },
      sidorova: {
        hash: '#wall',
        heading: 'Монитор',
        links: allLinks.filter((l) => l !== 'Сотрудники' && l !== 'Проверка фразы'),
      },
      petrova: {
        hash: '#intents',
        heading: 'Темы и намерения',
        links: [
          ...approverLinks.slice(0, 3),
          'Обучение',
          'Входящие фразы',
          ...approverLinks.slice(3),
          'Инциденты',
          'Качество',
        ],
      },
      ivanov: { hash: '#answers', heading: 'Ответы', links: approverLinks },
      kuznetsov: {
        hash: '#desk',
        heading: 'Рабочее место оператора',
        links: ['Рабочее место', 'Обзор', 'Звонки', 'Обращения', 'База знаний', 'Инциденты'],
      },
    };
    for (const [login, , name] of staff) {
      const want = expected[login]!;
      const page = await signedIn(login, name);
      const heading = page.locator(`${want.hash} > h2`);
      await heading.waitFor();
      assert.equal(await heading.innerText(), want.heading, login);
      assert.equal(new URL(page.url()).hash, want.hash, login);
      assert.deepEqual(await navLinks(page), want.links, login);
      // A page the role may not open, typed into the address bar, leads back to its landing page.
      if (login !== 'boss') {
        await page.evaluate("location.hash = '#users'");
        await page.waitForFunction(`location.hash === '${want.hash}'`);
        await heading.waitFor();
        assert.equal(await page.locator('#users').isHidden(), true, login);
      }
      await page.close();
    }
  });

  it('the admin creates an account, disables and enables it, unlocks it after failed sign-ins and resets its password', async () => {
    const admin = await signedIn('boss', 'Белов');
    const create = admin.locator('#user-create');
    await create.getByLabel('Логин').fill('smirnova');
    await create.getByLabel('ФИО').fill('Смирнова Ольга Петровна');
    await create.locator('select[name=role]').selectOption({ label: 'оператор' });
    await create.getByRole('button', { name: 'Создать учётную запись' }).click();
    const notice = admin.locator('#users-notice');
    await notice.getByText('Учётная запись smirnova создана').waitFor();
    assert.match(await notice.innerText(), /Он показывается один раз/);
    const first = (await notice.locator('code.password').innerText()).trim();
    const row = admin.locator('#users-table tbody tr[data-login="smirnova"]');
    await row.getByText('активна').waitFor();
    assert.match(await row.innerText(), /оператор/);

    // The new operator signs in with the password shown and lands on the desk.
    const operator = await open();
    await signIn(operator, 'smirnova', first);
    await operator.locator('#whoami').filter({ hasText: 'Смирнова' }).waitFor();
    assert.equal(new URL(operator.url()).hash, '#desk');

    // Disabled: her open page is signed out at its next request, and she cannot sign in again.
    await row.getByRole('button', { name: 'Отключить' }).click();
    await notice.getByText('Учётная запись smirnova отключена, её сеансы завершены.').waitFor();
    await row.getByText('отключена').waitFor();
    await operator.evaluate("location.hash = '#overview'");
    await operator.getByRole('heading', { name: 'Вход для сотрудников' }).waitFor();
    await signIn(operator, 'smirnova', first);
    await operator.getByText('Неверный логин или пароль').waitFor();
    await row.getByRole('button', { name: 'Включить' }).click();
    await row.getByText('активна').waitFor();

    // While an attempt is being checked its message is gone and «Войти» waits: the stale «неверный»
    // cannot be read as this attempt's answer, and a second press cannot be a second counted attempt.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await operator.route('**/api/auth/login', async (route) => {
      await held;
      await route.continue();
    });
    await signIn(operator, 'smirnova', 'неверный-пока-проверяется');
    assert.equal(await operator.locator('#login-error').innerText(), '');
    assert.equal(await operator.getByRole('button', { name: 'Войти' }).isDisabled(), true);
    release();
    await operator.locator('#login-error').filter({ hasText: 'Неверный логин или пароль' }).waitFor();
    await operator.unroute('**/api/auth/login');
    assert.equal(await operator.getByRole('button', { name: 'Войти' }).isDisabled(), false);

    // Five failed sign-ins lock the login (the try while it was disabled was the first): even the right
    // password is refused then, until the admin unlocks it (the held attempt above was the second). Each
    // press clears the last message, so each wait below reads the answer to its own attempt.
    for (let i = 0; i < 3; i++) {
      await signIn(operator, 'smirnova', `неверный-${i}`);
      await operator.locator('#login-error').filter({ hasText: 'Неверный логин или пароль' }).waitFor();
    }
    await signIn(operator, 'smirnova', first);
    await operator.getByText('Слишком много неудачных попыток входа').waitFor();
    await admin.getByRole('link', { name: 'Журнал действий' }).click();
    await admin.getByRole('link', { name: 'Сотрудники' }).click();
    await row.getByText('заблокирована до').waitFor();
    await row.getByRole('button', { name: 'Разблокировать' }).click();
    await notice.getByText('Вход для smirnova разблокирован.').waitFor();
    await row.getByText('активна').waitFor();
    await signIn(operator, 'smirnova', first);
    await operator.locator('#whoami').filter({ hasText: 'Смирнова' }).waitFor();
    // Signed in once the desk is drawn; only then does «Выйти» sign her out.
    await operator.locator('#desk > h2').waitFor();
    await operator.getByRole('button', { name: 'Выйти' }).click();
    await operator.getByRole('heading', { name: 'Вход для сотрудников' }).waitFor();

    // A reset: a new temporary password once; the old one no longer works, the new one does.
    await row.getByRole('button', { name: 'Сбросить пароль' }).click();
    await notice.getByText('Новый временный пароль для smirnova').waitFor();
    const second = (await notice.locator('code.password').innerText()).trim();
    assert.notEqual(second, first);
    await signIn(operator, 'smirnova', first);
    await operator.getByText('Неверный логин или пароль').waitFor();
    await signIn(operator, 'smirnova', second);
    await operator.locator('#whoami').filter({ hasText: 'Смирнова' }).waitFor();

    // Changed to an editor of the social ministry: she now lands on the knowledge base.
    await row.getByRole('button', { name: 'Изменить' }).click();
    const edit = admin.locator('#user-edit');
    await edit.locator('select[name=role]').selectOption({ label: 'редактор базы знаний' });
    await edit.getByLabel('Ведомство').selectOption('minsoc');
    await edit.getByRole('button', { name: 'Сохранить' }).click();
    await row.getByText('Министерство социальной защиты населения Энской области').waitFor();
    assert.match(await row.innerText(), /редактор базы знаний/);
    await admin.close();
    await operator.close();
  });

  it('a supervisor reads the audit log filtered by login, action and period', async () => {
    await db.sql.query(
      `INSERT INTO audit_log (at, login, action, object, details) VALUES
         ('2026-10-05T09:00:00Z', 'orlova', 'answer.draft', 'social.benefits@v2', '{}'),
         ('2026-10-06T09:00:00Z', 'orlova', 'answer.submit', 'social.benefits@v2', '{}'),
         ('2026-10-09T09:00:00Z', 'ivanov', 'answer.approve', 'social.benefits@v2', '{}')`,
    );
    const page = await signedIn('sidorova', 'Сидорова');
    await page.getByRole('link', { name: 'Журнал действий' }).click();
    const filter = page.locator('#audit-filter');
    const table = page.locator('#audit-table tbody');
    await filter.getByLabel('Сотрудник (логин)').fill('boss');
    await filter.getByLabel('Действие').fill('user.');
    await filter.getByRole('button', { name: 'Показать' }).click();
    await table.getByText('пароль сброшен').waitFor();
    const actions = (await table.locator('tr td:nth-child(3) small').allInnerTexts()).map((t) => t.trim());
    // Newest first: what the admin did to smirnova in the test before.
    assert.deepEqual(actions, [
      'user.update',
      'user.reset_password',
      'user.unlock',
      'user.enable',
      'user.disable',
      'user.create',
    ]);
    assert.match(
      await table.locator('tr').last().innerText(),
      /smirnova\s+role: operator; agency: null; passwordGenerated: true/,
    );

    await filter.getByRole('button', { name: 'Сбросить' }).click();
    await filter.getByLabel('Действие').fill('answer.');
    await filter.getByLabel('С', { exact: true }).fill('2026-10-06');
    await filter.getByLabel('По', { exact: true }).fill('2026-10-09');
    await filter.getByRole('button', { name: 'Показать' }).click();
    await table.getByText('ответ согласован').waitFor();
    const rows = (await table.locator('tr').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.equal(rows.length, 2, rows.join('\n'));
    assert.match(rows[0]!, /ivanov ответ согласован answer\.approve social\.benefits@v2/);
    assert.match(rows[1]!, /orlova ответ отправлен на согласование answer\.submit/);

    await filter.getByLabel('Сотрудник (логин)').fill('nobody');
    await filter.getByRole('button', { name: 'Показать' }).click();
    await table.getByText('Записей с такими условиями нет').waitFor();
    await page.close();
  });

  it('signing out while the desk still loads starts nothing, and its late answer does not sign out the next person', async () => {
    const page = await open();
    // The desk's first read (the topics) is slow, as on a loaded server: it is still on its way when
    // «Выйти» is pressed.
    let held = 0;
    await page.route('**/api/desk/scripts', async (route) => {
      if (held++ === 0) await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    const slowRead = page.waitForResponse('**/api/desk/scripts');
    await signIn(page, 'kuznetsov');
    await page.locator('#whoami').filter({ hasText: 'Кузнецов' }).waitFor();
    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.getByRole('heading', { name: 'Вход для сотрудников' }).waitFor();
    // Signed out, the page shows the form only: no menu, no «Выйти».
    assert.equal(await page.locator('#nav').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Выйти' }).isVisible(), false);
    const afterSignOut: string[] = [];
    page.on('request', (r) => afterSignOut.push(new URL(r.url()).pathname));
    // The supervisor signs in at the same screen before the operator's read comes back (401: signed out).
    await signIn(page, 'sidorova');
    await page.locator('#whoami').filter({ hasText: 'Сидорова' }).waitFor();
    assert.equal((await slowRead).status(), 401);
    await page.locator('#wall > h2').waitFor();
    await page.waitForTimeout(1500);
    assert.equal(await page.locator('#whoami').innerText(), 'Сидорова А. В. (старший смены)');
    assert.equal(await page.locator('#login').isHidden(), true);
    assert.deepEqual(
      afterSignOut.filter((p) => /^\/api\/desk\/(me|offers|events|callbacks|presence)\b/.test(p)),
      [],
      'the operator desk asked nothing after the sign-out',
    );
    await page.close();
  });
});
