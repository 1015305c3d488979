import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeWav, readWavInfo } from '../media/audio/wav.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { readRecording, recordingFinished, recordingStarted, recordingsOfCall } from './records.js';

describe('recordings: metadata, checksum, and reading only what is intact', () => {
  let db: TestDb;
  let dir: string;
  before(async () => {
    db = await openTestDb('pglite');
    dir = mkdtempSync(join(tmpdir(), 'otklik-rec-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stored(callId: string, seconds: number) {
    const path = join(dir, `${callId}.wav`);
    writeFileSync(
      path,
      encodeWav({ samples: new Int16Array(8000 * 2 * seconds).fill(700), sampleRate: 8000 }, 2),
    );
    const id = await recordingStarted(db.sql, {
      callId,
      path,
      legs: ['caller', 'bot'],
      startedAt: new Date(),
    });
    return { id, path, meta: await recordingFinished(db.sql, id) };
  }

  it('stores duration, size and sha256 of a finished stereo recording', async () => {
    const { meta } = await stored('c-meta', 3);
    assert.equal(meta.state, 'complete');
    assert.equal(meta.durationMs, 3000);
    assert.equal(meta.sizeBytes, 44 + 8000 * 2 * 2 * 3);
    assert.match(meta.sha256!, /^[0-9a-f]{64}$/);
    assert.equal((await recordingsOfCall(db.sql, 'c-meta')).length, 1);
  });

  it('gives the audio of an intact recording, and refuses an unknown one', async () => {
    const { id } = await stored('c-read', 1);
    const { audio, meta } = await readRecording(db.sql, id);
    assert.equal(readWavInfo(audio).channels, 2);
    assert.equal(meta.callId, 'c-read');
    await assert.rejects(readRecording(db.sql, 'no-such-recording'), {
      code: 'NOT_FOUND',
      details: { reason: 'unknown' },
    });
  });

  it('refuses a file that no longer matches its checksum, and marks a vanished file missing', async () => {
    const { id, path } = await stored('c-tamper', 1);
    writeFileSync(path, encodeWav({ samples: new Int16Array(16000), sampleRate: 8000 }, 2));
    await assert.rejects(readRecording(db.sql, id), { code: 'CONFLICT', details: { reason: 'checksum' } });

    const gone = await recordingStarted(db.sql, {
      callId: 'c-gone',
      path: join(dir, 'never-written.wav'),
      legs: ['caller'],
      startedAt: new Date(),
    });
    assert.equal((await recordingFinished(db.sql, gone)).state, 'missing');
    await assert.rejects(readRecording(db.sql, gone), { code: 'NOT_FOUND', details: { reason: 'missing' } });
  });

  it('reads the length of a WAV whose data chunk is still being written', () => {
    const wav = encodeWav({ samples: new Int16Array(4000), sampleRate: 8000 });
    wav.writeUInt32LE(0xffffffff, 40);
    assert.equal(readWavInfo(wav).durationMs, 500);
    assert.throws(() => readWavInfo(Buffer.from('not a wav at all')), { code: 'AUDIO_MALFORMED' });
  });
});
