import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { type RunningWorker, startWorker, type WorkerOptions } from '../admin/jobs/worker.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { createCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { OperatorQueue } from '../telephony/queue.js';
import { browserMissing, launchBrowser } from '../test/support/browser.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { startOwnRedis } from '../test/support/redis.js';
import { decodeMail, startSmtp, waitFor } from '../test/support/smtp.js';
import { smtpMailer } from './dispatch.js';
import { registerInquiry } from './register.js';

/**
 * Inquiry mail survives what production throws at it: a mail relay down longer than one job's attempts
 * (the job timing is scaled down through dispatchRetry and the sweep interval), a mailbox that does not
 * exist, and a Redis restarted empty. The supervisor sees what is stuck.
 */
const receivedAt = new Date('2026-11-24T11:00:00+03:00');
const password = 'пароль-руководителя';

describe('inquiry dispatch that nothing loses', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let token: string;
  let agencyEmail: string;
  /** The overview's clock: the tests set it, the wall clock never decides what is late. */
  let overviewNow = receivedAt;
  const running: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    const kb = createKnowledgeBase(db.sql);
    agencyEmail = (await kb.agency((await kb.topic('health'))!.agencyId!))!.email!;
    await addUser(db.sql, { login: 'smirnova', role: 'supervisor', name: 'Смирнова Е. П.', password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(callsPlugin, {
          sql: db.sql,
          queue: new OperatorQueue(db.sql, { waitNormMs: 60_000 }),
          health: async () => ({ components: {} }),
          timeZone: createKnowledgeBase(db.sql).timezone,
          now: () => overviewNow,
        }),
        adminArea(inquiriesPlugin, { sql: db.sql, now: () => overviewNow }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'smirnova', password }),
    });
    token = ((await res.json()) as { token: string }).token;
  });
  // Each test's worker and servers stop with it: a worker left running would sweep the next test's inquiries.
  // Nor may one test's unsent inquiry be mailed (or refused) by the next test's worker.
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.close();
    await db.sql.query('DELETE FROM inquiries');
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  async function newInquiry(question: string): Promise<number> {
    const callId = randomUUID();
    await createCall(db.sql, {
      id: callId,
      channel: 'text',
      callerNumber: '+79990001122',
      dialledNumber: '122',
      startedAt: receivedAt,
    });
    const inquiry = await registerInquiry(db.sql, {
      callId,
      question,
      intentId: null,
      topicId: 'health',
      agencyId: null,
      callbackNumber: '+79990001122',
      receivedAt,
    });
    return inquiry.id;
  }

  async function worker(opts: Partial<WorkerOptions> & { smtpPort: number }): Promise<RunningWorker> {
    const w = await startWorker({
      redisUrl: 'redis://127.0.0.1:6379',
      sql: db.sql,
      mailer: smtpMailer(`smtp://127.0.0.1:${opts.smtpPort}`, '122@otklik.test'),
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      prefix: `otklik-test-${randomUUID()}`,
      dispatchRetry: { attempts: 2, backoffMs: 10 },
      now: () => new Date(receivedAt.getTime() + 60_000),
      ...opts,
    });
    running.push(w);
    return w;
  }

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as T;
  };
  interface Listed {
    id: number;
    status: string;
    dispatchStuck: boolean;
    dispatchError: string | null;
    dispatchAttempts: number;
    dispatchLastError: string | null;
  }
  const listed = async (id: number) =>
    (await get<{ inquiries: Listed[] }>('/api/inquiries')).inquiries.find((i) => i.id === id)!;
  const stuckInOverview = async () =>
    (await get<{ inquiries: { dispatchStuck: number } }>('/api/overview')).inquiries.dispatchStuck;
  const mailsFor = (smtp: { received: Array<{ body: string }> }, id: number) =>
    smtp.received.filter((m) => decodeMail(m.body).includes(`обращение № ${id}`));

  it('a relay down for longer than a dispatch job tries (421) delivers the mail once it is back, exactly once', async () => {
    // Five refused connections outlast a job's two attempts twice over: only a new job can deliver it.
    const smtp = await startSmtp({ outage: 5 });
    running.push(smtp);
    const id = await newInquiry('сколько ждать результатов анализов');
    await worker({ smtpPort: smtp.port, sweepIntervalMs: 200 });
    await waitFor(
      () => (mailsFor(smtp, id).length > 0 ? true : undefined),
      'the mail after the outage',
      30_000,
    );
    assert.equal(smtp.refused.connections, 5);
    // More sweeps come and go: the inquiry is sent and is not mailed again.
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(mailsFor(smtp, id).length, 1);
    const row = await listed(id);
    assert.equal(row.status, 'dispatched');
    assert.equal(row.dispatchAttempts, 5);
    assert.equal(row.dispatchStuck, false);
  });

  it('a relay still down past the 15-minute norm shows the inquiry as stuck, with the last error', async () => {
    const smtp = await startSmtp({ outage: Number.POSITIVE_INFINITY });
    running.push(smtp);
    const id = await newInquiry('где получить полис');
    const w = await worker({ smtpPort: smtp.port });
    await w.sweepNow();
    await waitFor(
      async () => ((await listed(id)).dispatchAttempts >= 2 ? true : undefined),
      'two refused tries',
    );
    overviewNow = new Date(receivedAt.getTime() + 10 * 60_000);
    assert.equal((await listed(id)).dispatchStuck, false, 'within the norm it is not stuck yet');
    overviewNow = new Date(receivedAt.getTime() + 16 * 60_000);
    const row = await listed(id);
    assert.equal(row.dispatchStuck, true);
    assert.equal(row.status, 'registered');
    assert.match(row.dispatchLastError ?? '', /421/);
    assert.equal(await stuckInOverview(), 1);
  });

  it('a permanent rejection (550) is not retried, is recorded on the inquiry and shown as stuck', async () => {
    const smtp = await startSmtp({ reject: (address) => address === agencyEmail });
    running.push(smtp);
    overviewNow = new Date(receivedAt.getTime() + 60_000);
    const id = await newInquiry('как прикрепиться к поликлинике');
    const w = await worker({ smtpPort: smtp.port, dispatchRetry: { attempts: 5, backoffMs: 10 } });
    await w.sweepNow();
    const row = await waitFor(async () => {
      const r = await listed(id);
      return r.dispatchError ? r : undefined;
    }, 'the rejection recorded');
    // Further sweeps and the job's own attempts do not knock on the same closed door.
    await w.sweepNow();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.refused.recipients, 1);
    assert.equal(mailsFor(smtp, id).length, 0);
    assert.match(row.dispatchError!, /отклонил/);
    assert.match(row.dispatchError!, /550/);
    assert.equal(row.dispatchStuck, true, 'stuck before the deadline: no retry can help');
    assert.equal(await stuckInOverview(), 1);
  });

  it('the supervisor sees the stuck inquiry in the overview and in «Обращения»', {
    skip: browserMissing,
  }, async () => {
    const id = await newInquiry('нужна выписка из медкарты');
    await db.sql.query(
      `UPDATE inquiries SET dispatch_attempts = 1, dispatch_last_error = 'mail relay refused the message: 550 mailbox unavailable',
              dispatch_error = 'почтовый сервер отклонил письмо (550 mailbox unavailable): проверьте e-mail уполномоченного лица и передайте обращение вручную'
        WHERE id = $1`,
      [id],
    );
    overviewNow = new Date(receivedAt.getTime() + 60_000);
    const browser = await launchBrowser();
    running.push(browser);
    const page = await browser.newPage();
    await page.goto(base);
    await page.getByLabel('Логин').fill('smirnova');
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    // A supervisor lands on «Монитор»; the figures are on «Обзор».
    await page.locator('#wall > h2').waitFor();
    await page.getByRole('link', { name: 'Обзор' }).click();
    await page.locator('#overview > h2').waitFor();
    await page.locator('#inquiry-figures').getByText('Не переданы уполномоченным лицам').waitFor();
    assert.match(
      await page.locator('#inquiry-figures').innerText(),
      /Не переданы уполномоченным лицам — нужны действия\s+1/,
    );
    await page.getByRole('link', { name: 'Обращения' }).click();
    const row = page.locator('#inquiries-table tbody tr', { hasText: 'выписка из медкарты' });
    await row.getByText('Не передано уполномоченному лицу').waitFor();
    assert.match(await row.innerText(), /почтовый сервер отклонил письмо \(550 mailbox unavailable\)/);
  });

  it('mail times are the region time zone of the knowledge base, not Moscow', async () => {
    const smtp = await startSmtp();
    running.push(smtp);
    await db.sql.query("UPDATE kb_meta SET timezone = 'Asia/Yekaterinburg' WHERE id = 1");
    try {
      const id = await newInquiry('когда приём у терапевта');
      const w = await worker({ smtpPort: smtp.port });
      await w.sweepNow();
      const [mail] = await waitFor(() => {
        const m = mailsFor(smtp, id);
        return m.length ? m : undefined;
      }, 'the mail');
      const text = decodeMail(mail!.body);
      // 11:00 in Moscow is 13:00 in Yekaterinburg.
      assert.match(text, /Получено: 24\.11\.2026, 13:00:00 \(местное время, UTC\+05:00\)/);
      assert.doesNotMatch(text, /московское/);
    } finally {
      await db.sql.query("UPDATE kb_meta SET timezone = 'Europe/Moscow' WHERE id = 1");
    }
  });

  it('a Redis restarted empty gets its sweep back: a new inquiry is mailed without restarting the worker', async () => {
    const redis = await startOwnRedis();
    running.push({ close: () => redis.stop() });
    const smtp = await startSmtp();
    running.push(smtp);
    const w = await worker({ smtpPort: smtp.port, redisUrl: redis.url, sweepIntervalMs: 300 });
    assert.deepEqual(await w.health(), { status: 'ready' });

    await redis.stop();
    const down = await waitFor(async () => {
      const h = await w.health();
      return h.status === 'ready' ? undefined : h;
    }, 'health to notice Redis is gone');
    assert.equal(down.status, 'failed');
    assert.match(down.message ?? '', /Redis недоступен/);

    await redis.start();
    const id = await newInquiry('нужна ли справка для бассейна');
    await waitFor(
      () => (mailsFor(smtp, id).length > 0 ? true : undefined),
      'the mail after the restart',
      30_000,
    );
    assert.deepEqual(await w.health(), { status: 'ready' });
  });
});
