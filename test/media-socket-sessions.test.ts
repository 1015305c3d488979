/**
 * Voice-bot sessions behind the real media socket, on PostgreSQL with the shipped KB and the real NLU: what
 * a call record and FreeSWITCH's side of the socket show when a caller hangs up in a burst of audio before
 * the session has started.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger, type Logger } from '../core/log.js';
import { FsClient } from '../voicebot/channels/media/fs-client.js';
import type { MediaLeg } from '../voicebot/channels/media/media-leg.js';
import { type MediaSocket, startMediaSocket } from '../voicebot/channels/media/server.js';
import { type EngineDeps, openEngineDeps } from '../voicebot/engine-deps.js';
import { getCall } from '../voicebot/records/calls.js';
import { runCall, type SessionDeps } from '../voicebot/session.js';
import { openTestDb, type TestDb } from './support/db.js';

/** A logger whose entries the test reads. */
function capturingLogger(): { log: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) entries.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), entries };
}

async function eventually<T>(
  check: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  what: string,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('voice-bot sessions on the media socket (PostgreSQL)', () => {
  let db: TestDb;
  let engine: EngineDeps;
  let media: MediaSocket;
  let url: string;
  const logged = capturingLogger();
  /** What the socket's onCall does with the next call (the test decides when the session starts). */
  let onCall: (leg: MediaLeg, deps: SessionDeps) => Promise<unknown> | undefined = (leg, deps) =>
    runCall(leg, deps);

  before(async () => {
    db = await openTestDb('postgres');
    const modelDir = join(tmpdir(), 'otklik-test-media-sessions-nlu');
    mkdirSync(modelDir, { recursive: true });
    engine = await openEngineDeps(db.sql, logged.log, { modelDir });
    const deps: SessionDeps = {
      kb: engine.kb,
      nlu: engine.nlu,
      sql: db.sql,
      log: logged.log,
      now: () => new Date('2026-11-24T11:00:00+03:00'),
    };
    media = await startMediaSocket({ port: 0, log: logged.log, onCall: (leg) => onCall(leg, deps) });
    url = `ws://127.0.0.1:${media.port}`;
  });
  after(async () => {
    await media?.close();
    await engine?.close();
    await db?.drop();
  });

  it('a caller who hangs up after 1 500 events, before the session subscribed, gets the call record closed', async () => {
    const callId = randomUUID();
    // The session starts only after the hang-up arrived: the slowest start there can be.
    const hungUp = new Promise<MediaLeg>((resolve) => {
      onCall = (leg, deps) => {
        const session = eventually(() => leg.ended, 'the hang-up reaches the leg').then(() =>
          runCall(leg, deps),
        );
        resolve(leg);
        return session;
      };
    });
    const client = await FsClient.connect({ url, metadata: { callId, from: '+79001234567', to: '122' } });
    for (let i = 0; i < 1500; i++) client.sendRaw(Buffer.alloc(320));
    client.sendRaw(JSON.stringify({ event: 'hangup' }));
    const leg = await hungUp;
    await eventually(() => leg.ended, 'the leg sees the hang-up');
    const call = await eventually(async () => {
      const c = await getCall(db.sql, callId);
      return c && c.status !== 'active' && c;
    }, 'the call record is closed');
    assert.equal(call.status, 'completed');
    assert.ok(
      logged.entries.some((e) => e.callId === callId && /dropped/.test(String(e.msg)) && e.level === 40),
      'the dropped audio is logged',
    );
    await client.hangup();
  });
});
