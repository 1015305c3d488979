import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import { addTurn, createCall, endCall, saveSurvey, setCallTopic } from '../../calls/records.js';
import { cdrStart } from '../../calls/sip.js';
import { silentLogger } from '../../core/log.js';
import { registerInquiry } from '../../inquiries/register.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { ensureSeeded } from '../../kb/seed.js';
import { OperatorQueue } from '../../telephony/queue.js';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { callReportsPlugin } from '../plugins/call-reports.js';
import { adminArea, build } from '../server.js';
import type { TypedApp } from '../typed.js';
import { addUser } from '../users.js';
import { buildCallReport, type CallReportDeps, COUNT_FIGURES, REPORT_BY } from './call-report.js';
import { reportHeadings, reportTable, reportToCsv, reportToXlsx } from './export.js';

const DAY = '2026-03-02';
const at = (hhmm: string) => new Date(`${DAY}T${hhmm}:00+03:00`);
const NOW = new Date('2026-03-03T12:00:00+03:00');
const PHONE = '+79161234567';
const SAID = 'у меня не работает отопление в квартире';
const TOKEN = 'feed-token-for-the-situational-centre-0123456789';
const password = 'пароль-для-отчётов';
const root = new URL('../../', import.meta.url).pathname;

for (const backend of backends) {
  describe(`call report engine (${backend})`, () => {
    let db: TestDb;
    let deps: CallReportDeps;
    let topics: Array<{ id: string; agencyId: string | null }>;
    let agencies: string[];
    let calls = 0;

    async function call(
      id: string,
      hhmm: string,
      outcome: Parameters<typeof endCall>[2],
      o: { topic?: string; chat?: boolean } = {},
    ) {
      calls++;
      await createCall(db.sql, {
        id,
        channel: o.chat ? 'text' : 'sip',
        callerNumber: PHONE,
        dialledNumber: '122',
        startedAt: at(hhmm),
      });
      await addTurn(db.sql, id, 0, { who: 'caller', text: SAID, atMs: 0 } as never);
      if (o.topic) await setCallTopic(db.sql, id, o.topic);
      await endCall(db.sql, id, outcome, new Date(at(hhmm).getTime() + 120_000));
    }

    /** Through the queue itself: a caller queued at hhmm who waited waitMs, then was answered or hung up. */
    async function queued(callId: string, hhmm: string, end: 'answered' | 'abandoned', waitMs: number) {
      let clock = at(hhmm).getTime();
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
      clock += 180_000;
      await queue.releaseOperator('ivanova');
    }

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      const kb = createKnowledgeBase(db.sql);
      assert.equal(await kb.timezone(), 'Europe/Moscow');
      topics = (await kb.topics()).map((t) => ({ id: t.id, agencyId: t.agencyId }));
      agencies = (await kb.agencies()).map((a) => a.id);
      deps = { sql: db.sql, kb, defaultNormMs: 60_000, now: () => NOW };
      const [t1, t2] = topics;
      // The bot alone: a phone call with a topic and a score, a chat without a topic.
      await call('bot-1', '09:00', 'answered', { topic: t1!.id });
      await saveSurvey(db.sql, 'bot-1', 5, at('09:03'));
      await call('bot-2', '09:30', 'answered', { chat: true });
      // Operators: two answered (30 s and 50 s in the queue), two abandoned (90 s and 40 s).
      await call('op-1', '10:00', 'escalated', { topic: t1!.id });
      await queued('op-1', '10:01', 'answered', 30_000);
      await saveSurvey(db.sql, 'op-1', 3, at('10:10'));
      await call('op-2', '11:00', 'escalated', { topic: t2!.id });
      await queued('op-2', '11:01', 'answered', 50_000);
      await call('ab-1', '12:00', 'abandoned');
      await queued('ab-1', '12:01', 'abandoned', 90_000);
      await call('ab-2', '13:00', 'abandoned', { topic: t2!.id });
      await queued('ab-2', '13:01', 'abandoned', 40_000);
      // A forward and an emergency.
      await call('fw-1', '14:00', 'forwarded', { topic: t2!.id });
      await call('em-1', '15:00', 'emergency');
      // An inquiry to two agencies (one row per agency); not sent by the deadline as of NOW: late.
      await call('iq-1', '16:00', 'inquiry', { topic: t1!.id });
      for (const agencyId of [agencies[0]!, agencies[1]!])
        await registerInquiry(db.sql, {
          callId: 'iq-1',
          question: SAID,
          intentId: null,
          topicId: t1!.id,
          agencyId,
          callbackNumber: PHONE,
          receivedAt: at('16:02'),
        });
      // Callbacks of an abandoned call: one reached, one that rang out.
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now: () => at('18:00') });
      await call('cb-1', '17:00', 'abandoned');
      const reached = await queue.callbacks.create({ phone: PHONE, source: 'caller', callId: 'cb-1' });
      await queue.callbacks.recordResult(reached.id, 'answered');
      await call('cb-2', '17:30', 'abandoned');
      const missed = await queue.callbacks.create({ phone: PHONE, source: 'caller', callId: 'cb-2' });
      await queue.callbacks.recordResult(missed.id, 'no_answer');
      // The line's own call that the citizen answered (outgoing), and one nobody answered (not a call).
      calls++;
      for (const [callId, answeredAt] of [
        ['out-1', at('18:05')],
        ['out-2', null],
      ] as const)
        await cdrStart(db.sql, {
          callId,
          channelUuid: `uuid-${callId}`,
          direction: 'outbound',
          from: '122',
          to: PHONE,
          startedAt: at('18:04'),
          answeredAt,
          instanceId: 'test',
        });
      // The next day's call is outside the report of DAY.
      await createCall(db.sql, {
        id: 'next',
        channel: 'sip',
        callerNumber: PHONE,
        dialledNumber: '122',
        startedAt: new Date('2026-03-03T00:30:00+03:00'),
      });
    });
    after(async () => db?.drop());

    it('adds up: the count figures of every breakdown’s rows are the total’s', async () => {
      for (const by of REPORT_BY) {
        const r = await buildCallReport(deps, { from: DAY, to: DAY, by });
        for (const k of COUNT_FIGURES) {
          const sum = r.rows.reduce((s, row) => s + row[k], 0);
          assert.equal(sum, r.total[k], `${by}: ${k} rows ${sum} ≠ total ${r.total[k]}`);
        }
      }
      const r = await buildCallReport(deps, { from: DAY, to: DAY, by: 'direction' });
      assert.equal(r.total.offered, calls);
      assert.deepEqual(
        r.rows.map((x) => [x.key, x.offered]),
        [
          ['incoming', calls - 1],
          ['outgoing', 1],
        ],
      );
      const t = r.total;
      assert.deepEqual(
        [t.botOnly, t.escalated, t.answeredByOperators, t.forwarded, t.emergencies, t.abandoned],
        [2, 4, 2, 1, 1, 4],
      );
      assert.deepEqual([t.inquiries, t.inquiriesSentLate, t.inquiriesSentOnTime], [2, 2, 0]);
      assert.deepEqual([t.callbacksPlaced, t.callbacksReached, t.surveys, t.surveyAverage], [2, 1, 2, 4]);
      assert.deepEqual([t.asaMs, t.avgWaitMs, t.p90WaitMs, t.ahtMs], [40_000, 52_500, 90_000, 180_000]);
      const byChannel = await buildCallReport(deps, { from: DAY, to: DAY, by: 'channel' });
      assert.deepEqual(
        byChannel.rows.map((x) => [x.key, x.label, x.offered]),
        [
          ['phone', 'телефон', calls - 1],
          ['chat', 'чат', 1],
        ],
      );
      const byAgency = await buildCallReport(deps, { from: DAY, to: DAY, by: 'agency' });
      for (const a of [agencies[0]!, agencies[1]!])
        assert.equal(byAgency.rows.find((x) => x.key === a)?.inquiries, 1, a);
      const byTopic = await buildCallReport(deps, { from: DAY, to: DAY, by: 'topic' });
      assert.equal(byTopic.rows.at(-1)?.label, 'без темы');
    });

    it('counts the calls lost past a norm given for the report, as a hand count does', async () => {
      // Abandoned after 90 s and 40 s, answered after 30 s and 50 s; with a 35 s norm: two lost, one in norm.
      const r = await buildCallReport(deps, { from: DAY, to: DAY, by: 'day', normMs: 35_000 });
      assert.equal(r.normSource, 'request');
      assert.match(r.normNote, /35 с/);
      assert.deepEqual(
        [r.total.lostPastNorm, r.total.answeredWithinNorm, r.total.serviceLevel],
        [2, 1, 0.25],
      );
      const byDefault = await buildCallReport(deps, { from: DAY, to: DAY, by: 'day' });
      assert.equal(byDefault.normSource, 'queue');
      assert.match(byDefault.normNote, /QUEUE_WAIT_NORM_MS/);
      assert.deepEqual([byDefault.total.lostPastNorm, byDefault.total.answeredWithinNorm], [1, 2]);
    });

    it('writes the same figures to the CSV and the XLSX (read back with exceljs)', async () => {
      const r = await buildCallReport(deps, { from: DAY, to: DAY, by: 'hour' }, () => {});
      const csv = reportToCsv(r);
      assert.ok(csv.startsWith('\uFEFFЧас;Поступило обращений;'), csv.slice(0, 40));
      const lines = csv.slice(1).trim().split('\r\n');
      const book = new ExcelJS.Workbook();
      await book.xlsx.load((await reportToXlsx(r)) as never);
      const sheet = book.getWorksheet('Отчёт')!;
      assert.equal(sheet.rowCount, lines.length);
      assert.deepEqual((sheet.getRow(1).values as unknown[]).slice(1), reportHeadings(r));
      const table = reportTable(r);
      for (let i = 0; i < table.length; i++) {
        const row = sheet.getRow(i + 2);
        const fromXlsx = table[i]!.map((_, j) => row.getCell(j + 1).value ?? null);
        const fromCsv = lines[i + 1]!.split(';').map((c, j) =>
          j === 0 ? c : c === '' ? null : Number(c.replace(',', '.')),
        );
        assert.deepEqual(fromXlsx, fromCsv, `row ${i}`);
        assert.deepEqual(fromCsv, table[i]);
      }
      assert.equal(sheet.getRow(table.length + 1).getCell(2).value, r.total.offered);
    });

    it('refuses a period backwards and a day the calendar has not', async () => {
      await assert.rejects(
        buildCallReport(deps, { from: '2026-03-05', to: '2026-03-01', by: 'day' }),
        /позже его конца/,
      );
      await assert.rejects(
        buildCallReport(deps, { from: '2026-02-30', to: '2026-03-01', by: 'day' }),
        /нет такой даты/,
      );
    });

    describe('the situational centre’s feed', () => {
      let app: TypedApp;
      let base: string;
      before(async () => {
        await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
        app = await build({
          sql: db.sql,
          log: silentLogger,
          plugins: [
            adminArea(callReportsPlugin, {
              sql: db.sql,
              kb: deps.kb,
              defaultNormMs: 60_000,
              now: () => NOW,
              feed: { token: TOKEN, ratePerMinute: 6 },
            }),
          ],
        });
        base = await app.listen({ host: '127.0.0.1', port: 0 });
      });
      after(async () => app?.close());
      const feed = (headers: Record<string, string> = {}) =>
        fetch(`${base}/api/feed/figures?from=${DAY}&to=${DAY}`, { headers });

      async function login(name: string): Promise<string> {
        const res = await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: name, password }),
        });
        return ((await res.json()) as { token: string }).token;
      }

      it('gives supervisors any period and breakdown as JSON, CSV or XLSX; operators none', async () => {
        const token = await login('sidorova');
        const get = (q: string, t = token) =>
          fetch(`${base}/api/reports/calls?${q}`, { headers: { authorization: `Bearer ${t}` } });
        const year = await get('from=2025-06-01&to=2026-05-31&by=queue');
        assert.equal(year.status, 200);
        const body = (await year.json()) as {
          by: string;
          rows: Array<{ key: string }>;
          total: { offered: number };
        };
        assert.equal(body.by, 'queue');
        assert.equal(body.total.offered, calls + 1);
        const csv = await get(`from=${DAY}&to=${DAY}&by=topic&format=csv&normMs=35000`);
        assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
        assert.match(await csv.text(), /35 с/);
        const xlsx = await get(`from=${DAY}&to=${DAY}&by=operator&format=xlsx`);
        assert.equal(xlsx.status, 200);
        const book = new ExcelJS.Workbook();
        await book.xlsx.load((await xlsx.arrayBuffer()) as never);
        const names = book.getWorksheet('Отчёт')!.getColumn(1).values as unknown[];
        assert.ok(names.includes('Иванова'), String(names));
        assert.equal((await get(`from=${DAY}&to=2026-03-01`)).status, 400);
        assert.equal((await get(`from=${DAY}&to=${DAY}&by=weekday`)).status, 400);
        await addUser(db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.', password });
        assert.equal((await get(`from=${DAY}&to=${DAY}`, await login('kuznetsov'))).status, 403);
        assert.equal((await fetch(`${base}/api/reports/calls?from=${DAY}&to=${DAY}`)).status, 401);
      });

      it('refuses a request without the token or with a wrong one', async () => {
        assert.equal((await feed()).status, 401);
        assert.equal((await feed({ authorization: `Bearer ${TOKEN}x` })).status, 401);
        assert.equal((await feed({ authorization: 'Bearer short' })).status, 401);
      });

      it('gives the figures by day and topic without a phone number or a word the caller said', async () => {
        const res = await feed({ authorization: `Bearer ${TOKEN}` });
        assert.equal(res.status, 200);
        const text = await res.text();
        const body = JSON.parse(text) as {
          byDay: Array<{ key: string; offered: number }>;
          byTopic: unknown[];
          total: { offered: number };
        };
        assert.deepEqual(
          body.byDay.map((d) => [d.key, d.offered]),
          [[DAY, calls]],
        );
        assert.ok(body.byTopic.length >= 3);
        assert.ok(!text.includes(PHONE.slice(2)), 'a phone number in the feed');
        assert.ok(!text.includes('отопление'), 'the caller’s words in the feed');
        assert.ok(!text.includes('Иванова'), 'an operator in the feed');
      });

      it('is rate-limited: past the requests a minute allows, 429', async () => {
        const codes: number[] = [];
        for (let i = 0; i < 4; i++) codes.push((await feed({ authorization: `Bearer ${TOKEN}` })).status);
        assert.equal(codes.at(-1), 429, String(codes));
      });
    });

    if (backend === 'postgres') {
      describe('otklik report calls', () => {
        let dir: string;
        before(() => {
          dir = mkdtempSync(join(tmpdir(), 'otklik-report-cli-'));
        });
        after(() => rmSync(dir, { recursive: true, force: true }));
        const otklik = (...args: string[]) => {
          const env = { ...process.env, OTKLIK_DATA_DIR: dir, LOG_LEVEL: 'silent', DATABASE_URL: db.url! };
          const child = spawn(process.execPath, ['bin/otklik.js', 'report', 'calls', ...args], {
            cwd: root,
            env,
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
            child.on('exit', (code) => resolve({ code, stdout, stderr })),
          );
        };

        it('prints the contract’s JSON, rows adding up to the total', async () => {
          const out = await otklik('--from', DAY, '--to', '2026-03-03', '--by', 'topic', '--format', 'json');
          assert.equal(out.code, 0, out.stderr);
          const j = JSON.parse(out.stdout) as {
            from: string;
            to: string;
            by: string;
            rows: Array<Record<string, number> & { key: string }>;
            total: Record<string, number>;
          };
          assert.deepEqual([j.from, j.to, j.by], [DAY, '2026-03-03', 'topic']);
          assert.ok(j.rows.every((r) => typeof r.key === 'string'));
          for (const k of COUNT_FIGURES)
            assert.equal(
              j.rows.reduce((s, r) => s + r[k]!, 0),
              j.total[k],
              k,
            );
          assert.equal(j.total.offered, calls + 1);
        });

        it('writes an XLSX only to a file, and refuses bad dates clearly', async () => {
          const noOut = await otklik('--from', DAY, '--to', DAY, '--format', 'xlsx');
          assert.notEqual(noOut.code, 0);
          assert.match(noOut.stderr, /укажите --out/);
          const file = join(dir, 'r.xlsx');
          const ok = await otklik('--from', DAY, '--to', DAY, '--format', 'xlsx', '--out', file);
          assert.equal(ok.code, 0, ok.stderr);
          assert.equal(readFileSync(file).subarray(0, 2).toString(), 'PK');
          const backwards = await otklik('--from', '2026-03-05', '--to', DAY);
          assert.notEqual(backwards.code, 0);
          assert.match(backwards.stderr, /позже его конца/);
          const bad = await otklik('--from', '2 марта', '--to', DAY);
          assert.notEqual(bad.code, 0);
          assert.match(bad.stderr, /нет такой даты/);
        });
      });
    }
  });
}
