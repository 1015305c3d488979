import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { silence, tone } from '../../media/audio/pcm.js';
import { encodeWav } from '../../media/audio/wav.js';
import { createVoskEngine } from '../../speech/asr/index.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { type DialogKnowledge, openDialogKnowledge } from '../../voicebot/dialog-knowledge.js';
import { adminArea, build } from '../server.js';
import type { TypedApp } from '../typed.js';
import { addUser } from '../users.js';
import { studioTryPlugin } from './studio-try.js';

/**
 * POST /api/kb/try and /api/kb/try/audio on the shipped KB with the NLU trained from it: an editor or an
 * approver sees the reading and what the bot would do at the moment asked for; an operator may not; a bad
 * upload is a 400 and a recording without an installed ASR model a 503 MODEL_MISSING, both in Russian.
 */
const password = 'пароль-редактора-базы';

/** The answer of the routes as JSON (an error's `code` and `message`, else the reading and the preview). */
interface TryAnswer {
  code: string;
  message: string;
  normalized: string;
  intent: string;
  intentTitle: string | null;
  confidence: number;
  alternatives: Array<{ intent: string; confidence: number; title: string | null }>;
  at: string;
  timeZone: string;
  bot: {
    answerServed: boolean;
    approvedAnswer: { versionTag: string } | null;
    says: Array<{ promptId: string | null; text: string; answerVersion?: string }>;
    end: string;
    agency: { id: string; open: boolean; nextChange: string | null } | null;
  };
}
const NOW = new Date('2026-11-24T11:00:00+03:00');

describe('«Проверка фразы» through the admin API', () => {
  let db: TestDb;
  let engine: DialogKnowledge;
  let app: TypedApp;
  let base: string;
  const modelDir = mkdtempSync(join(tmpdir(), 'otklik-try-nlu-'));
  const asr = createVoskEngine({ modelPath: join(modelDir, 'no-vosk-model'), log: silentLogger });
  const tokens = new Map<string, string>();

  const post = async (path: string, login: string, body: unknown, type = 'application/json') => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.get(login)}`, 'content-type': type },
      body: type === 'application/json' ? JSON.stringify(body) : (body as Buffer),
    });
    return { status: res.status, body: (await res.json()) as TryAnswer };
  };

  before(async () => {
    db = await openTestDb('postgres');
    engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir });
    for (const [login, role] of [
      ['petrova', 'editor'],
      ['belova', 'approver'],
      ['kuznetsov', 'operator'],
    ] as const)
      await addUser(db.sql, { login, role, name: login, password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(studioTryPlugin, {
          kb: engine.kb,
          nlu: engine.nlu,
          asr,
          log: silentLogger,
          now: () => NOW,
        }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const login of ['petrova', 'belova', 'kuznetsov']) {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      tokens.set(login, String(((await res.json()) as { token: string }).token));
    }
  });
  after(async () => {
    await app?.close();
    await engine?.close();
    asr.close();
    await db?.drop();
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('shows an editor the reading and the approved answer the bot would read now', async () => {
    const { status, body } = await post('/api/kb/try', 'petrova', { text: 'Хочу ЗАПИСАТЬСЯ к терапевту!' });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.normalized, 'хочу записаться к терапевту');
    assert.equal(body.intent, 'health.appointment');
    assert.equal(body.intentTitle, 'Запись на приём к врачу');
    assert.ok(body.confidence > 0.5, String(body.confidence));
    assert.ok(Array.isArray(body.alternatives) && body.alternatives.every((a) => 'title' in a));
    assert.equal(body.at, NOW.toISOString());
    assert.equal(body.timeZone, 'Europe/Moscow');
    assert.equal(body.bot.answerServed, true);
    assert.equal(body.bot.approvedAnswer?.versionTag, 'health.appointment@v1');
    assert.equal(body.bot.says[0]?.answerVersion, 'health.appointment@v1');
    assert.equal(body.bot.end, 'answered');
  });

  it('takes the call time in the region’s local time: a complaint on Sunday evening goes to an inquiry', async () => {
    const sunday = await post('/api/kb/try', 'belova', {
      text: 'хочу пожаловаться на поликлинику',
      at: '2026-11-29T20:00',
    });
    assert.equal(sunday.status, 200, JSON.stringify(sunday.body));
    assert.equal(sunday.body.at, '2026-11-29T17:00:00.000Z');
    assert.equal(sunday.body.intent, 'health.complaint');
    assert.equal(sunday.body.bot.agency?.id, 'health_hotline');
    assert.equal(sunday.body.bot.agency?.open, false);
    assert.equal(sunday.body.bot.agency?.nextChange, '2026-11-30T06:00:00.000Z');
    assert.deepEqual(
      sunday.body.bot.says.map((s) => s.promptId),
      ['after_hours', 'inquiry_offer'],
    );
    const tuesday = await post('/api/kb/try', 'belova', {
      text: 'хочу пожаловаться на поликлинику',
      at: '2026-11-24T10:00:00+03:00',
      channel: 'text',
    });
    assert.equal(tuesday.body.bot.end, 'forward');
    assert.equal(
      tuesday.body.bot.says.at(-1)?.text,
      'Ответит служба: Горячая линия министерства здравоохранения.',
    );
  });

  it('refuses an operator, an empty phrase and a time it cannot read, in Russian', async () => {
    const operator = await post('/api/kb/try', 'kuznetsov', { text: 'хочу записаться к терапевту' });
    assert.equal(operator.status, 403);
    const blank = await post('/api/kb/try', 'petrova', { text: '   ' });
    assert.equal(blank.status, 400);
    assert.equal(blank.body.message, 'Введите фразу для проверки');
    const bad = await post('/api/kb/try', 'petrova', { text: 'алло', at: 'вчера вечером' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /^Неверное время звонка «вчера вечером»/);
  });

  it('a recording: a bad WAV is a 400, a good one without an ASR model a 503 MODEL_MISSING', async () => {
    const junk = await post('/api/kb/try/audio', 'petrova', Buffer.from('это не запись'), 'audio/wav');
    assert.equal(junk.status, 400);
    assert.equal(junk.body.code, 'AUDIO_MALFORMED');
    assert.match(junk.body.message, /^Файл не является записью WAV/);

    const hifi = encodeWav(tone(44100, 440, 500));
    const rate = await post('/api/kb/try/audio', 'petrova', hifi, 'audio/wav');
    assert.equal(rate.status, 400);
    assert.equal(
      rate.body.message,
      'Частота дискретизации записи 44100 Гц не подходит: нужна запись 8–16 кГц',
    );

    const long = encodeWav(silence(8000, 31_000));
    assert.equal((await post('/api/kb/try/audio', 'petrova', long, 'audio/wav')).status, 400);

    const phrase = encodeWav(tone(16000, 300, 1500));
    const missing = await post('/api/kb/try/audio', 'belova', phrase, 'audio/wav');
    assert.equal(missing.status, 503);
    assert.equal(missing.body.code, 'MODEL_MISSING');
    assert.match(missing.body.message, /^Модель распознавания речи не установлена/);

    const operator = await post('/api/kb/try/audio', 'kuznetsov', phrase, 'audio/wav');
    assert.equal(operator.status, 403);
  });
});
