import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCall, endCall, saveSurvey } from '../../calls/records.js';
import { silentLogger } from '../../core/log.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { OperatorQueue } from '../../telephony/queue.js';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { adminArea, build } from '../server.js';
import type { TypedApp } from '../typed.js';
import { addUser } from '../users.js';
import { reportsPlugin } from './reports.js';

const password = 'пароль-для-отчётов';

for (const backend of backends) {
  describe(`daily reports (${backend})`, () => {
    let db: TestDb;
    let app: TypedApp;
    let base: string;
    let supervisor: string;
    let operator: string;

    async function call(id: string, at: string, outcome: Parameters<typeof endCall>[2]) {
      await createCall(db.sql, {
        id,
        channel: 'sip',
        callerNumber: '+79990000000',
        dialledNumber: '122',
        startedAt: new Date(at),
      });
      await endCall(db.sql, id, outcome, new Date(Date.parse(at) + 60_000));
    }

    /** A caller queued at `at` who waited `waitMs` and then was answered or hung up, through the queue itself. */
    async function queued(callId: string, at: string, end: 'answered' | 'abandoned', waitMs: number) {
      let clock = Date.parse(at);
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now: () => new Date(clock) });
      await queue.enqueueCall({ callId, topicId: null });
      clock += waitMs;
      if (end === 'abandoned') return queue.abandon(callId);
      await queue.upsertOperator({
        id: 'ivanova',
        name: 'Иванова',
        sipUri: 'sip:ivanova@10.0.0.21',
        skills: [],
      });
      await queue.setOperatorState('ivanova', 'available');
      assert.equal((await queue.assignNext())[0]?.callId, callId);
      await queue.answered(callId);
      await queue.releaseOperator('ivanova');
    }

    async function login(name: string): Promise<string> {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: name, password }),
      });
      return ((await res.json()) as { token: string }).token;
    }

    before(async () => {
      db = await openTestDb(backend);
      await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
      await addUser(db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.', password });
      // Moscow days: 23:30 on 2 March is still 2 March; 00:30 on 3 March (21:30 UTC on 2 March) is 3 March.
      await call('r-1', '2026-03-02T09:00:00+03:00', 'answered');
      await call('r-2', '2026-03-02T12:00:00+03:00', 'escalated');
      await call('r-3', '2026-03-02T23:30:00+03:00', 'answered');
      await call('r-4', '2026-03-03T00:30:00+03:00', 'abandoned');
      await call('r-5', '2026-03-03T10:00:00+03:00', 'inquiry');
      // Past the 60 s norm only r-4's wait: a call lost past the norm.
      await queued('r-2', '2026-03-02T12:01:00+03:00', 'answered', 30_000);
      await queued('r-4', '2026-03-03T00:31:00+03:00', 'abandoned', 90_000);
      await queued('r-x', '2026-03-03T11:00:00+03:00', 'abandoned', 10_000);
      await saveSurvey(db.sql, 'r-1', 5, new Date('2026-03-02T09:05:00+03:00'));
      await saveSurvey(db.sql, 'r-3', 4, new Date('2026-03-02T23:35:00+03:00'));
      app = await build({
        sql: db.sql,
        log: silentLogger,
        plugins: [adminArea(reportsPlugin, { sql: db.sql, timeZone: createKnowledgeBase(db.sql).timezone })],
      });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      supervisor = await login('sidorova');
      operator = await login('kuznetsov');
    });
    after(async () => {
      await app?.close();
      await db?.drop();
    });

    const get = (query: string, token = supervisor) =>
      fetch(`${base}/api/reports/daily?${query}`, { headers: { authorization: `Bearer ${token}` } });

    it('counts each local day, the queue and the calls lost past the wait norm, with empty days as zeros', async () => {
      const res = await get('from=2026-03-02&to=2026-03-04');
      assert.equal(res.status, 200);
      const { days } = (await res.json()) as { days: Array<Record<string, unknown>> };
      assert.deepEqual(
        days.map((d) => [d.day, d.calls, d.answeredByBot, d.escalated, d.inquiries, d.abandoned]),
        [
          ['2026-03-02', 3, 2, 1, 0, 0],
          ['2026-03-03', 2, 0, 0, 1, 1],
          ['2026-03-04', 0, 0, 0, 0, 0],
        ],
      );
      assert.deepEqual(
        days.map((d) => [d.queueOffered, d.queueAnswered, d.lostPastNorm, d.avgWaitMs, d.p90WaitMs]),
        [
          [1, 1, 0, 30000, 30000],
          // p90 by nearest rank (core/stats.ts), as the live queue figures: a wait someone really had.
          [2, 0, 1, 50000, 90000],
          [0, 0, 0, 0, 0],
        ],
      );
      assert.deepEqual(
        days.map((d) => [d.surveys, d.surveyAverage]),
        [
          [2, 4.5],
          [0, null],
          [0, null],
        ],
      );
    });

    it('gives a CSV that a Russian-locale spreadsheet opens: BOM, semicolons, Russian headings', async () => {
      const res = await get('from=2026-03-02&to=2026-03-03&format=csv');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(res.headers.get('content-disposition') ?? '', /otklik-122-2026-03-02-2026-03-03\.csv/);
      const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
      assert.ok(text.startsWith('\uFEFFДата;Звонков;Отвечено ботом;'), text.slice(0, 60));
      const lines = text.trim().split('\r\n');
      assert.equal(lines.length, 3);
      assert.ok(lines[1]!.startsWith('2026-03-02;3;2;1;0;0;0;0;1;1;0;30000;30000;2;4,5'), lines[1]);
    });

    it('refuses bad periods clearly and lets only supervisors in', async () => {
      const backwards = await get('from=2026-03-05&to=2026-03-01');
      assert.equal(backwards.status, 400);
      assert.match(((await backwards.json()) as { message: string }).message, /позже его конца/);
      const long = await get('from=2026-01-01&to=2026-12-31');
      assert.equal(long.status, 400);
      const malformed = await get('from=2 марта&to=2026-03-03');
      assert.equal(malformed.status, 400);
      const noSuchDay = await get('from=2026-02-30&to=2026-03-03');
      assert.equal(noSuchDay.status, 400);
      assert.match(
        ((await noSuchDay.json()) as { message: string }).message,
        /нет такой даты в календаре «2026-02-30»/,
      );
      assert.equal((await get('from=2026-03-02&to=2026-03-03', operator)).status, 403);
      assert.equal((await fetch(`${base}/api/reports/daily?from=2026-03-02&to=2026-03-03`)).status, 401);
    });
  });
}
