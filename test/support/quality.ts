import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { callsPlugin } from '../../admin/plugins/calls.js';
import { qualityPlugin } from '../../admin/plugins/quality.js';
import { recordingsPlugin } from '../../admin/plugins/recordings.js';
import { adminArea, build } from '../../admin/server.js';
import { addUser, type Role } from '../../admin/users.js';
import {
  addTurn,
  createCall,
  endCall,
  recordOperatorClose,
  recordOperatorTaken,
  saveSurvey,
  setCallTopic,
} from '../../calls/records.js';
import { silentLogger } from '../../core/log.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { ensureSeeded } from '../../kb/seed.js';
import { encodeWav } from '../../media/audio/wav.js';
import type { Sql } from '../../store/sql.js';
import { OperatorQueue } from '../../telephony/queue.js';
import { recordingFinished, recordingStarted } from '../../telephony/records.js';
import { launchBrowser } from './browser.js';
import { openTestDb, type TestDb } from './db.js';

export const IVANOVA = { id: 'ivanova', name: 'Иванова М. П.' };

/**
 * A phone call Иванова took from the queue through the owners' own acts, on the test's clock: 20 s waiting,
 * 3 minutes of talk, 30 s of wrap-up; its turns, a 2-second recording on disk and the caller's survey (5).
 * `clock` is advanced by the helper.
 */
export async function seedOperatorCall(
  sql: Sql,
  queue: OperatorQueue,
  clock: { t: number },
  o: { callId: string; recordingsDir: string; topicId?: string },
): Promise<void> {
  const startedAt = new Date(clock.t);
  await createCall(sql, {
    id: o.callId,
    channel: 'sip',
    callerNumber: '+79145550011',
    dialledNumber: '122',
    startedAt,
  });
  await addTurn(sql, o.callId, 1, { who: 'bot', text: 'Здравствуйте! Линия сто двадцать два.', atMs: 0 });
  await addTurn(sql, o.callId, 2, { who: 'caller', text: 'Соедините с оператором, пожалуйста', atMs: 4000 });
  await addTurn(sql, o.callId, 3, { who: 'operator', text: 'Оператор Иванова, слушаю вас', atMs: 26_000 });
  if (o.topicId) await setCallTopic(sql, o.callId, o.topicId);
  const context = {
    reason: 'caller_request',
    callerNumber: null,
    topic: null,
    intents: [],
    entities: [],
    transcript: [],
    answers: [],
  };
  await queue.enqueue({ callId: o.callId, channel: 'sip', topicId: null, context, at: startedAt });
  clock.t += 20_000;
  await queue.assignNext({ channel: 'phone' });
  await queue.accept(o.callId, IVANOVA.id);
  await recordOperatorTaken(sql, o.callId, IVANOVA);
  clock.t += 180_000;
  await queue.closeConversation(o.callId, IVANOVA.id, { outcome: 'answered' });
  await recordOperatorClose(sql, o.callId, {
    operator: IVANOVA,
    outcome: 'answered',
    note: 'Дана справка',
    at: new Date(clock.t),
  });
  await endCall(sql, o.callId, 'escalated', new Date(clock.t));
  await saveSurvey(sql, o.callId, 5, new Date(clock.t), { after: 'operator', operatorId: IVANOVA.id });
  clock.t += 30_000;
  await queue.assignNext({ channel: 'phone' });
  const day = startedAt.toISOString().slice(0, 10);
  mkdirSync(join(o.recordingsDir, day), { recursive: true });
  const path = join(o.recordingsDir, day, `${o.callId}.wav`);
  writeFileSync(path, encodeWav({ samples: new Int16Array(16_000), sampleRate: 8000 }));
  const id = await recordingStarted(sql, {
    callId: o.callId,
    path,
    legs: ['caller', 'bot', 'operator:ivanova'],
    startedAt,
  });
  await recordingFinished(sql, id);
}

/** The staff app of the «Качество» browser tests, with Иванова's call seeded: close() takes it all down. */
export interface QualityDesk {
  db: TestDb;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * PGlite with the sample KB, the given staff accounts, Иванова in the default queue and her call
 * (`seedOperatorCall`, on the topic when given), the calls, recordings and quality plugins on the test's clock,
 * and a browser.
 */
export async function openQualityDesk(o: {
  clock: { t: number };
  callId: string;
  users: Array<{ login: string; role: Role; name: string; password: string }>;
  onTopic?: boolean;
}): Promise<QualityDesk> {
  const now = () => new Date(o.clock.t);
  const db = await openTestDb('pglite');
  await ensureSeeded(db.sql);
  const dir = mkdtempSync(join(tmpdir(), 'otklik-quality-ui-'));
  for (const user of o.users) await addUser(db.sql, user);
  const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 30_000, now });
  await queue.upsertOperator({
    id: IVANOVA.id,
    name: IVANOVA.name,
    sipUri: 'sip:ivanova@10.0.0.21',
    skills: [],
  });
  await queue.setMember('default', IVANOVA.id);
  await queue.setPresence(IVANOVA.id, 'available');
  const kb = createKnowledgeBase(db.sql);
  const topicId = o.onTopic ? (await kb.topics())[0]!.id : undefined;
  await seedOperatorCall(db.sql, queue, o.clock, {
    callId: o.callId,
    recordingsDir: dir,
    ...(topicId ? { topicId } : {}),
  });
  const health = async () => ({ status: 'ok', components: { store: { status: 'ready' } } });
  const app = await build({
    sql: db.sql,
    log: silentLogger,
    plugins: [
      adminArea(callsPlugin, { sql: db.sql, queue, health, timeZone: kb.timezone, now }),
      adminArea(recordingsPlugin, { sql: db.sql }),
      adminArea(qualityPlugin, { sql: db.sql, timeZone: kb.timezone, topics: kb.topics, now }),
    ],
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchBrowser();
  return {
    db,
    base,
    browser,
    async close() {
      await browser.close();
      await app.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
