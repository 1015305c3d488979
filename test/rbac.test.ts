import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../admin/audit.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { incidentsPlugin } from '../admin/plugins/incidents.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { kbPlugin } from '../admin/plugins/kb.js';
import { qualityPlugin } from '../admin/plugins/quality.js';
import { recordingsPlugin } from '../admin/plugins/recordings.js';
import { reportsPlugin } from '../admin/plugins/reports.js';
import { usersPlugin } from '../admin/plugins/users.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser, type Role } from '../admin/users.js';
import { createCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { encodeWav } from '../media/audio/wav.js';
import { OperatorQueue } from '../telephony/queue.js';
import { recordingFinished, recordingStarted } from '../telephony/records.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';
import { seedInquiry } from './support/inquiries.js';

/**
 * Who may do what, route by route: every admin route asked by anonymous and by each role, then the rules
 * that are not a matter of role (approval by the topic's agency and never by the draft's author, sign-in
 * lockout, what health and the call card show), all through the real HTTP app on a real store.
 */
const password = 'пароль-для-проверки';
const staff: Array<{ login: string; role: Role; name: string; agency?: string }> = [
  { login: 'boss', role: 'admin', name: 'Администратор', agency: 'minzdrav' },
  { login: 'root', role: 'admin', name: 'Администратор без ведомства' },
  { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.' },
  { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.' },
  { login: 'ivanov', role: 'approver', name: 'Иванов П. С.', agency: 'minzdrav' },
  { login: 'orlova', role: 'approver', name: 'Орлова М. И.', agency: 'minsoc' },
  { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.' },
];
/** The account that asks for each role in the route table. */
const asRole: Record<Role, string> = {
  admin: 'boss',
  supervisor: 'sidorova',
  editor: 'petrova',
  approver: 'ivanov',
  operator: 'kuznetsov',
};
const allStaff: Role[] = ['admin', 'supervisor', 'editor', 'approver', 'operator'];

interface Route {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Roles let through; 'public' means anonymous callers too. */
  allowed: Role[] | 'public';
}

describe('who may do what, route by route', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  const tokens = new Map<string, string>();
  let recordingId: string;

  const request = async (
    method: string,
    path: string,
    login?: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(login ? { authorization: `Bearer ${tokens.get(login)}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Audio and other non-JSON bodies: the status says enough.
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    for (const u of staff) await addUser(db.sql, { ...u, password });
    await createCall(db.sql, {
      id: 'call-rbac-1',
      channel: 'text',
      callerNumber: '+79991234567',
      dialledNumber: '122',
      startedAt: new Date('2026-11-24T11:00:00+03:00'),
    });
    await seedInquiry(db.sql, {
      callId: 'call-rbac-1',
      question: 'как оформить пособие',
      receivedAt: new Date('2026-11-24T11:05:00+03:00'),
    });
    const path = join(mkdtempSync(join(tmpdir(), 'otklik-rbac-')), 'call-rbac-1.wav');
    writeFileSync(path, encodeWav({ samples: new Int16Array(1600), sampleRate: 8000 }, 2));
    recordingId = await recordingStarted(db.sql, {
      callId: 'call-rbac-1',
      path,
      legs: ['caller', 'bot'],
      startedAt: new Date('2026-11-24T11:00:00+03:00'),
    });
    await recordingFinished(db.sql, recordingId);

    const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000 });
    const health = async () => ({ asr: { status: 'model_missing' as const, message: 'нет модели Vosk' } });
    const kb = createKnowledgeBase(db.sql);
    app = await build({
      sql: db.sql,
      log: silentLogger,
      health,
      plugins: [
        adminArea(kbPlugin, { sql: db.sql }),
        adminArea(usersPlugin, { sql: db.sql }),
        adminArea(incidentsPlugin, { sql: db.sql }),
        adminArea(callsPlugin, { sql: db.sql, queue, health: async () => ({}), timeZone: kb.timezone }),
        adminArea(inquiriesPlugin, { sql: db.sql }),
        adminArea(recordingsPlugin, { sql: db.sql }),
        adminArea(reportsPlugin, { sql: db.sql, timeZone: kb.timezone }),
        adminArea(qualityPlugin, { sql: db.sql, timeZone: kb.timezone }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const u of staff) {
      const res = await request('POST', '/api/auth/login', undefined, { login: u.login, password });
      assert.equal(res.status, 200, `${u.login} signs in`);
      tokens.set(u.login, String(res.body.token));
    }
  });

  after(async () => {
    await app?.close();
    await db?.drop();
  });

  it('lets each role (and anonymous callers) through exactly the routes meant for them', async () => {
    // Mutating routes name things that do not exist, so a caller let through gets 404 and nothing changes.
    const routes: Route[] = [
      { method: 'GET', path: '/api/health', allowed: 'public' },
      { method: 'GET', path: '/api/auth/me', allowed: allStaff },
      { method: 'GET', path: '/api/users', allowed: ['admin'] },
      { method: 'GET', path: '/api/overview', allowed: ['admin', 'supervisor', 'operator'] },
      { method: 'GET', path: '/api/calls', allowed: ['admin', 'supervisor', 'operator'] },
      { method: 'GET', path: '/api/calls/call-rbac-1', allowed: ['admin', 'supervisor', 'operator'] },
      { method: 'GET', path: '/api/inquiries', allowed: ['admin', 'supervisor', 'operator'] },
      {
        method: 'POST',
        path: '/api/inquiries/999999/answer',
        body: { text: 'ответ' },
        allowed: ['admin', 'supervisor', 'operator'],
      },
      { method: 'POST', path: '/api/inquiries/999999/relayed', allowed: ['admin', 'supervisor', 'operator'] },
      { method: 'GET', path: '/api/incidents', allowed: ['admin', 'supervisor', 'editor', 'operator'] },
      {
        method: 'POST',
        path: '/api/incidents',
        body: { title: 'Проверка прав', announcement: 'Объявление.', level: 'regional', durationHours: 1 },
        allowed: ['admin', 'supervisor'],
      },
      { method: 'POST', path: '/api/incidents/no-such-incident/end', allowed: ['admin', 'supervisor'] },
      {
        method: 'GET',
        path: '/api/kb/answers',
        allowed: ['admin', 'supervisor', 'editor', 'approver', 'operator'],
      },
      {
        method: 'POST',
        path: '/api/kb/answers/no.such.intent/versions',
        body: { speech: 'текст', screen: 'экран' },
        allowed: ['admin', 'editor'],
      },
      {
        method: 'POST',
        path: '/api/kb/answers/health.checkup/versions/999/submit',
        allowed: ['admin', 'editor'],
      },
      {
        method: 'POST',
        path: '/api/kb/answers/health.checkup/versions/999/approve',
        allowed: ['admin', 'approver'],
      },
      {
        method: 'POST',
        path: '/api/kb/answers/health.checkup/versions/999/reject',
        allowed: ['admin', 'approver'],
      },
      {
        method: 'POST',
        path: '/api/kb/answers/health.checkup/versions/999/retire',
        allowed: ['admin', 'approver'],
      },
      { method: 'GET', path: '/api/kb/flows', allowed: ['admin', 'supervisor', 'editor', 'approver'] },
      {
        method: 'GET',
        path: '/api/kb/flows/default',
        allowed: ['admin', 'supervisor', 'editor', 'approver'],
      },
      // Edits that fail validation (400) or name a missing prompt (404): nothing changes.
      { method: 'POST', path: '/api/kb/flows/rbac-flow', body: { steps: [] }, allowed: ['admin', 'editor'] },
      {
        method: 'POST',
        path: '/api/kb/prompts/rbac-prompt',
        body: { text: ' ' },
        allowed: ['admin', 'editor'],
      },
      { method: 'POST', path: '/api/kb/prompts/no-such-prompt/delete', allowed: ['admin', 'editor'] },
      {
        method: 'POST',
        path: '/api/kb/menus/rbac-menu',
        body: { prompt: 'no-such-prompt', items: [] },
        allowed: ['admin', 'editor'],
      },
      { method: 'GET', path: '/api/calls/call-rbac-1/recordings', allowed: ['admin', 'supervisor'] },
      { method: 'GET', path: `/api/recordings/${recordingId}/audio`, allowed: ['admin', 'supervisor'] },
      {
        method: 'GET',
        path: '/api/reports/daily?from=2026-11-24&to=2026-11-24',
        allowed: ['admin', 'supervisor'],
      },
      { method: 'GET', path: '/api/quality/checklist', allowed: ['admin', 'supervisor', 'editor'] },
      { method: 'GET', path: '/api/quality/checklist/export', allowed: ['admin', 'supervisor', 'editor'] },
      {
        method: 'POST',
        path: '/api/quality/checklist',
        body: { title: 'Проверка прав', kind: 'yes_no', weight: 1, id: 'greeting' },
        allowed: ['admin', 'editor'],
      },
      { method: 'GET', path: '/api/quality/calls', allowed: ['admin', 'supervisor'] },
      { method: 'GET', path: '/api/quality/calls/call-rbac-1', allowed: ['admin', 'supervisor'] },
      { method: 'GET', path: '/api/calls/call-rbac-1/scores', allowed: ['admin', 'supervisor'] },
      {
        method: 'GET',
        path: '/api/quality/operators?from=2026-11-24&to=2026-11-24',
        allowed: ['admin', 'supervisor'],
      },
    ];
    const wrong: string[] = [];
    for (const route of routes) {
      const body = route.method === 'POST' ? (route.body ?? {}) : undefined;
      const anonymous = await request(route.method, route.path, undefined, body);
      const anonymousOk = route.allowed === 'public';
      if (anonymousOk ? anonymous.status === 401 || anonymous.status === 403 : anonymous.status !== 401)
        wrong.push(`${route.method} ${route.path} anonymous: ${anonymous.status}`);
      for (const role of allStaff) {
        const res = await request(route.method, route.path, asRole[role], body);
        const letIn = route.allowed === 'public' || route.allowed.includes(role);
        const refused = res.status === 403 && res.body.error === 'FORBIDDEN';
        if (letIn ? refused || res.status === 401 || res.status >= 500 : !refused)
          wrong.push(`${route.method} ${route.path} as ${role}: ${res.status} ${JSON.stringify(res.body)}`);
        if (refused) assert.match(String(res.body.message), /^Недостаточно прав для этого действия/);
      }
    }
    assert.deepEqual(wrong, []);
    // Every try at the recording is in the audit log, the refused ones with their reason.
    const listens = await listAudit(db.sql, { action: 'recording.listen', object: recordingId });
    assert.deepEqual(
      listens.map((a) => [a.login, a.details.granted, a.details.reason]),
      [
        ['boss', true, null],
        ['sidorova', true, null],
        ['petrova', false, 'role'],
        ['ivanov', false, 'role'],
        ['kuznetsov', false, 'role'],
      ],
    );
    // Signing out needs no sign-in (it ends the session it names); asked with a role it would end that session.
    assert.equal((await request('POST', '/api/auth/logout', undefined, {})).status, 200);
  });

  it('lets an approver approve only the topics of their own agency', async () => {
    const editor = createKbEditor(db.sql);
    const draft = await editor.createDraft('health.checkup', {
      speech: 'Диспансеризацию проходят в своей поликлинике.',
      screen: 'Диспансеризация: поликлиника по прикреплению.',
      author: 'petrova',
    });
    await editor.submitForApproval('health.checkup', draft.version, 'petrova');
    const at = `/api/kb/answers/health.checkup/versions/${draft.version}/approve`;

    const other = await request('POST', at, 'orlova', {});
    assert.equal(other.status, 403);
    assert.equal(other.body.error, 'APPROVER_OTHER_AGENCY');
    assert.match(
      String(other.body.message),
      /Скрипты темы «Здравоохранение» согласует Министерство здравоохранения/,
    );
    const noAgency = await request('POST', at, 'root', {});
    assert.equal(noAgency.status, 403);
    assert.equal(noAgency.body.error, 'APPROVER_WITHOUT_AGENCY');
    assert.match(String(noAgency.body.message), /не привязана к ведомству/);
    assert.notEqual(
      (await createKnowledgeBase(db.sql).approvedAnswer('health.checkup'))?.version,
      draft.version,
    );

    const own = await request('POST', at, 'ivanov', {});
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal((await createKnowledgeBase(db.sql).approvedAnswer('health.checkup'))?.approvedBy, 'ivanov');
  });

  it('never lets the author (or the submitter) approve their own draft, even an admin', async () => {
    const created = await request('POST', '/api/kb/answers/health.vaccination/versions', 'boss', {
      speech: 'Прививку можно сделать в поликлинике по месту жительства.',
      screen: 'Вакцинация: поликлиника.',
    });
    assert.equal(created.status, 201);
    const version = Number(created.body.version);
    const path = (act: string) => `/api/kb/answers/health.vaccination/versions/${version}/${act}`;
    assert.equal((await request('POST', path('submit'), 'boss', {})).status, 200);
    const self = await request('POST', path('approve'), 'boss', {});
    assert.equal(self.status, 403);
    assert.equal(self.body.error, 'APPROVER_IS_AUTHOR');
    assert.match(String(self.body.message), /написал\(а\) версию .* согласовать её должен другой сотрудник/);

    // Written by the editor, submitted by the admin: the admin is still not the one to approve it.
    const second = await request('POST', '/api/kb/answers/health.home_visit/versions', 'petrova', {
      speech: 'Врача на дом вызывают через регистратуру.',
      screen: 'Вызов врача на дом.',
    });
    const v2 = Number(second.body.version);
    const path2 = (act: string) => `/api/kb/answers/health.home_visit/versions/${v2}/${act}`;
    assert.equal((await request('POST', path2('submit'), 'boss', {})).status, 200);
    const submitter = await request('POST', path2('approve'), 'boss', {});
    assert.equal(submitter.status, 403);
    assert.equal(submitter.body.error, 'APPROVER_IS_AUTHOR');
    assert.equal((await request('POST', path2('approve'), 'ivanov', {})).status, 200);
    const refused = await db.sql.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE login = 'boss' AND action = 'answer.approve'`,
    );
    assert.deepEqual(refused, [], 'a refused approval is not recorded as an approval');
  });

  it('shows health detail to signed-in staff only', async () => {
    const anonymous = await request('GET', '/api/health');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(anonymous.body, { status: 'degraded' });
    const signedIn = await request('GET', '/api/health', 'kuznetsov');
    assert.deepEqual((signedIn.body.components as Record<string, unknown>).asr, {
      status: 'model_missing',
      message: 'нет модели Vosk',
    });
  });

  it('masks the caller number in the call card for operators, not for supervisors', async () => {
    const operator = await request('GET', '/api/calls/call-rbac-1', 'kuznetsov');
    assert.equal((operator.body.call as Record<string, unknown>).callerNumber, '*********67');
    const supervisor = await request('GET', '/api/calls/call-rbac-1', 'sidorova');
    assert.equal((supervisor.body.call as Record<string, unknown>).callerNumber, '+79991234567');
    const list = await request('GET', '/api/calls', 'sidorova');
    assert.equal((list.body.calls as Array<{ caller: string }>)[0]?.caller, '*********67');
  });

  it('lists the staff with their agency for the admin', async () => {
    const res = await request('GET', '/api/users', 'boss');
    const users = res.body.users as Array<{
      login: string;
      agency: string | null;
      agencyName: string | null;
    }>;
    const ivanov = users.find((u) => u.login === 'ivanov');
    assert.equal(ivanov?.agency, 'minzdrav');
    assert.match(ivanov?.agencyName ?? '', /здравоохранения/);
    assert.equal(users.find((u) => u.login === 'kuznetsov')?.agency, null);
    await assert.rejects(
      addUser(db.sql, { login: 'x', role: 'approver', name: 'X', agency: 'minfin', password }),
      /unknown agency "minfin"/,
    );
  });

  it('shows it in the UI: the call card masks the number for an operator; the admin lists the staff', {
    skip: browserMissing,
  }, async () => {
    const browser = await launchBrowser();
    try {
      const signIn = async (login: string) => {
        const page = await browser.newPage();
        await page.goto(base);
        await page.getByLabel('Логин').fill(login);
        await page.getByLabel('Пароль').fill(password);
        await page.getByRole('button', { name: 'Войти' }).click();
        await page.locator('#whoami').filter({ hasText: /./ }).waitFor();
        return page;
      };
      for (const [login, shown] of [
        ['kuznetsov', '*********67'],
        ['sidorova', '+79991234567'],
      ] as const) {
        const page = await signIn(login);
        await page.getByRole('link', { name: 'Звонки' }).click();
        await page.locator('#calls-table tr[data-id="call-rbac-1"]').click();
        await page
          .locator('#call-detail .caller')
          .filter({ hasText: `Абонент: ${shown}` })
          .waitFor();
        assert.equal(await page.getByRole('link', { name: 'Сотрудники' }).isVisible(), false);
        await page.close();
      }
      const page = await signIn('boss');
      await page.getByRole('link', { name: 'Сотрудники' }).click();
      const row = page.locator('#users-table tr', { hasText: 'ivanov' });
      await row.getByText('согласующий').waitFor();
      await row.getByText('Министерство здравоохранения Энской области').waitFor();
      await page.close();
    } finally {
      await browser.close();
    }
  });

  it('sends security headers that let only the UI itself run scripts', async () => {
    for (const path of ['/', '/chat.html', '/api/health']) {
      const res = await fetch(`${base}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, path);
      assert.match(csp, /object-src 'none'/, path);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
    }
  });
});
