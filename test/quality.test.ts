/**
 * Quality control stored on both backends: the KB's checklist (seeded defaults, YAML export → import → export
 * byte-identical, checks that store nothing when they fail, an editor's edits through the API, audited), a
 * supervisor's score through the API (every item scored within its range, the operator from the call, audited),
 * and the per-operator figures of a period read through the owners (calls, AHT, wrap-up, scores, survey).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../admin/audit.js';
import { qualityPlugin } from '../admin/plugins/quality.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { callScores, getSurvey } from '../calls/quality.js';
import { removeOldTranscripts } from '../calls/retention.js';
import { isOtklikError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { exportChecklistYaml, importChecklistYaml, listChecklist } from '../kb/checklist.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { OperatorQueue } from '../telephony/queue.js';
import { backends, openTestDb, type TestDb } from './support/db.js';
import type { Json } from './support/desk.js';
import { IVANOVA, seedOperatorCall } from './support/quality.js';

const password = 'пароль-для-качества';
const CALL = 'q-call-1';

for (const backend of backends) {
  describe(`quality control (${backend})`, () => {
    let db: TestDb;
    let app: TypedApp;
    let base: string;
    let dir: string;
    const clock = { t: Date.parse('2026-03-02T07:00:00Z') };
    const now = () => new Date(clock.t);
    const tokens: Record<string, string> = {};

    async function req(login: string, method: string, path: string, body?: unknown) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tokens[login]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let json: Json = null;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: res.status, json, text };
    }

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      dir = mkdtempSync(join(tmpdir(), 'otklik-quality-'));
      for (const [login, role] of [
        ['sidorova', 'supervisor'],
        ['petrov', 'editor'],
        ['kuznetsov', 'operator'],
      ] as const)
        await addUser(db.sql, { login, role, name: login, password });
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 30_000, now });
      await queue.upsertOperator({
        id: IVANOVA.id,
        name: IVANOVA.name,
        sipUri: 'sip:ivanova@10.0.0.21',
        skills: [],
      });
      await queue.setMember('default', IVANOVA.id);
      await queue.setPresence(IVANOVA.id, 'available');
      await seedOperatorCall(db.sql, queue, clock, { callId: CALL, recordingsDir: dir });
      const kb = createKnowledgeBase(db.sql);
      app = await build({
        sql: db.sql,
        log: silentLogger,
        plugins: [adminArea(qualityPlugin, { sql: db.sql, timeZone: kb.timezone, topics: kb.topics, now })],
      });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      for (const login of ['sidorova', 'petrov', 'kuznetsov']) {
        const res = await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login, password }),
        });
        tokens[login] = ((await res.json()) as { token: string }).token;
      }
    });
    after(async () => {
      await app?.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the default checklist; YAML export → import → export is byte-identical', async () => {
      const items = await listChecklist(db.sql);
      assert.deepEqual(
        items.map((i) => [i.id, i.kind, i.weight]),
        [
          ['greeting', 'yes_no', 1],
          ['script_followed', 'scale', 3],
          ['correct_information', 'scale', 3],
          ['politeness', 'scale', 2],
          ['outcome_recorded', 'yes_no', 1],
        ],
      );
      const yaml = await exportChecklistYaml(db.sql);
      assert.match(yaml, /title: Приветствие по стандарту линии/);
      await importChecklistYaml(db.sql, yaml);
      assert.equal(await exportChecklistYaml(db.sql), yaml);
      // Through the API as well: the editor's export and import.
      const exported = await req('petrov', 'GET', '/api/quality/checklist/export');
      assert.equal(exported.status, 200);
      assert.equal(exported.text, yaml);
      const imported = await req('petrov', 'POST', '/api/quality/checklist/import', { yaml: exported.text });
      assert.equal(imported.status, 200);
      assert.equal(await exportChecklistYaml(db.sql), yaml);
    });

    it('an import that fails its checks stores nothing; items left out are retired, kept for old scores', async () => {
      const before = await exportChecklistYaml(db.sql);
      const bad = [
        'checklist:\n  - { id: greeting, title: А }\n  - { id: greeting, title: Б }\n',
        'checklist:\n  - { id: Greeting, title: А }\n',
        'checklist:\n  - { id: greeting, title: А, weight: 0 }\n',
        'checklist:\n  - { id: greeting, title: "  " }\n',
        'checklist:\n  - { id: greeting, title: А, retired: true }\n',
        'checklist: [\n',
        'checklist:\n  - { id: greeting, title: А, colour: red }\n',
      ];
      for (const text of bad) {
        await assert.rejects(
          importChecklistYaml(db.sql, text),
          (e) => isOtklikError(e, 'VALIDATION_FAILED'),
          text,
        );
        assert.equal(await exportChecklistYaml(db.sql), before, `nothing stored for ${text}`);
      }
      const refused = await req('petrov', 'POST', '/api/quality/checklist/import', { yaml: bad[0] });
      assert.equal(refused.status, 400);
      assert.equal(refused.json.code, 'VALIDATION_FAILED');
      assert.match(refused.json.message, /greeting указан дважды/);

      await importChecklistYaml(
        db.sql,
        'checklist:\n  - { id: greeting, title: Приветствие, kind: yes_no, weight: 2, position: 1 }\n  - { id: empathy, title: Сочувствие, kind: scale, weight: 4, position: 2 }\n',
      );
      assert.deepEqual(
        (await listChecklist(db.sql)).map((i) => i.id),
        ['greeting', 'empathy'],
      );
      assert.equal((await listChecklist(db.sql, { withRetired: true })).filter((i) => i.retired).length, 4);
      // Importing the old file again brings the old items back; the new one stays, retired.
      await importChecklistYaml(db.sql, before);
      assert.deepEqual(
        (await listChecklist(db.sql)).map((i) => i.id),
        ['greeting', 'script_followed', 'correct_information', 'politeness', 'outcome_recorded'],
      );
      const again = await exportChecklistYaml(db.sql);
      assert.match(again, /id: empathy\n(.*\n){4} {4}retired: true/);
      await importChecklistYaml(db.sql, again);
      assert.equal(await exportChecklistYaml(db.sql), again);
    });

    it('an editor edits an item through the API (audited); a supervisor may not', async () => {
      const body = { title: 'Вежливость и терпение', kind: 'scale', weight: 2, position: 4 };
      assert.equal((await req('sidorova', 'PUT', '/api/quality/checklist/politeness', body)).status, 403);
      const ok = await req('petrov', 'PUT', '/api/quality/checklist/politeness', body);
      assert.equal(ok.status, 200);
      assert.equal(ok.json.item.title, 'Вежливость и терпение');
      const bad = await req('petrov', 'PUT', '/api/quality/checklist/Bad-Id', body);
      assert.equal(bad.status, 400);
      const audit = await listAudit(db.sql, { action: 'checklist.set' });
      assert.deepEqual(
        audit.map((a) => [a.login, a.object]),
        [['petrov', 'politeness']],
      );
      const listed = await req('sidorova', 'GET', '/api/quality/checklist');
      assert.equal(listed.json.items.find((i: Json) => i.id === 'politeness').title, 'Вежливость и терпение');
    });

    it('an editor adds an item (its id from the title; a taken id is a conflict), audited, then retires it', async () => {
      const body = { title: 'Назвал срок ответа', kind: 'yes_no', weight: 1 };
      assert.equal((await req('sidorova', 'POST', '/api/quality/checklist', body)).status, 403);
      const added = await req('petrov', 'POST', '/api/quality/checklist', body);
      assert.equal(added.status, 201);
      assert.equal(added.json.item.id, 'nazval_srok_otveta');
      assert.equal(added.json.item.retired, false);
      const positions = (await listChecklist(db.sql, { withRetired: true })).map((i) => i.position);
      assert.equal(added.json.item.position, Math.max(...positions), 'added at the end');
      // The same title again: a fresh id; an id given that is taken: 409 with a Russian message.
      assert.equal(
        (await req('petrov', 'POST', '/api/quality/checklist', body)).json.item.id,
        'nazval_srok_otveta_2',
      );
      const taken = await req('petrov', 'POST', '/api/quality/checklist', { ...body, id: 'greeting' });
      assert.equal(taken.status, 409);
      assert.match(taken.json.message, /Пункт с кодом «greeting» уже есть/);
      assert.deepEqual(
        (await listAudit(db.sql, { action: 'checklist.add' })).map((a) => [a.login, a.object]),
        [
          ['petrov', 'nazval_srok_otveta'],
          ['petrov', 'nazval_srok_otveta_2'],
        ],
      );
      for (const id of ['nazval_srok_otveta', 'nazval_srok_otveta_2'])
        assert.equal(
          (await req('petrov', 'PUT', `/api/quality/checklist/${id}`, { ...body, retired: true })).status,
          200,
        );
      assert.ok(!(await listChecklist(db.sql)).some((i) => i.id.startsWith('nazval')));
    });

    it('a supervisor scores a call: every item within its range, the operator from the call, audited', async () => {
      const items = (points: number[]) =>
        ['greeting', 'script_followed', 'correct_information', 'politeness', 'outcome_recorded'].map(
          (id, n) => ({
            id,
            points: points[n]!,
          }),
        );
      assert.equal(
        (await req('kuznetsov', 'POST', `/api/calls/${CALL}/scores`, { items: items([1, 3, 3, 2, 1]) }))
          .status,
        403,
      );
      const missing = await req('sidorova', 'POST', `/api/calls/${CALL}/scores`, {
        items: items([1, 3, 3, 2, 1]).slice(1),
      });
      assert.equal(missing.status, 400);
      assert.match(missing.json.message, /Не оценён пункт/);
      const over = await req('sidorova', 'POST', `/api/calls/${CALL}/scores`, {
        items: items([1, 4, 3, 2, 1]),
      });
      assert.equal(over.status, 400);
      assert.match(over.json.message, /от 0 до 3/);
      const halfYes = await req('sidorova', 'POST', `/api/calls/${CALL}/scores`, {
        items: items([1, 3, 3, 1, 0]),
      });
      assert.equal(halfYes.status, 200);
      assert.equal(halfYes.json.score.total, 80);
      assert.equal(
        (await req('sidorova', 'POST', '/api/calls/nope/scores', { items: items([1, 3, 3, 2, 1]) })).status,
        404,
      );
      const [score] = await callScores(db.sql, CALL);
      assert.equal(score!.operatorId, IVANOVA.id);
      assert.equal(score!.items.find((i) => i.id === 'politeness')!.title, 'Вежливость и терпение');
      assert.equal(score!.at.getTime(), clock.t);
      assert.equal((await listAudit(db.sql, { action: 'call.score', object: CALL })).length, 1);
      assert.equal((await getSurvey(db.sql, CALL))?.operatorId, IVANOVA.id);
    });

    it('per-operator figures of a period and score figures per topic', async () => {
      const day = await req('sidorova', 'GET', '/api/quality/operators?from=2026-03-02&to=2026-03-02');
      assert.equal(day.status, 200);
      assert.deepEqual(day.json.operators, [
        {
          operatorId: 'ivanova',
          operatorName: IVANOVA.name,
          calls: 1,
          ahtMs: 180_000,
          wrapUpMs: 30_000,
          scored: 1,
          scoredShare: 1,
          averageScore: 80,
          surveys: 1,
          surveyAverage: 5,
        },
      ]);
      assert.deepEqual(day.json.topics, [{ topicId: null, scored: 1, averageScore: 80, topicTitle: null }]);
      const nextDay = await req('sidorova', 'GET', '/api/quality/operators?from=2026-03-03&to=2026-03-04');
      assert.deepEqual(nextDay.json.operators, []);
      assert.equal(
        (await req('kuznetsov', 'GET', '/api/quality/operators?from=2026-03-02&to=2026-03-02')).status,
        403,
      );
      assert.equal(
        (await req('sidorova', 'GET', '/api/quality/operators?from=2026-03-05&to=2026-03-02')).status,
        400,
      );
    });

    it("retention: the transcript's removal takes the scores' comments with it, the scores stay", async () => {
      await req('sidorova', 'POST', `/api/calls/${CALL}/scores`, {
        items: ['greeting', 'script_followed', 'correct_information', 'politeness', 'outcome_recorded'].map(
          (id) => ({
            id,
            points: 0,
          }),
        ),
        comment: 'Абонент назвал адрес: ул. Ленина, 1',
      });
      assert.ok((await callScores(db.sql, CALL)).some((s) => s.comment));
      const later = new Date('2027-03-02T00:00:00Z');
      await removeOldTranscripts(db.sql, {
        before: later,
        now: later,
        held: [],
        dryRun: false,
        limit: 100,
        after: null,
      });
      const scores = await callScores(db.sql, CALL);
      assert.equal(scores.length, 2);
      assert.ok(scores.every((s) => s.comment === null));
      assert.deepEqual(
        scores.map((s) => s.total),
        [80, 0],
      );
    });
  });
}
