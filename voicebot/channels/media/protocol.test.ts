import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeL16, encodeL16, parseEvent, parseMetadata, playAudioMessage } from './protocol.js';

test('metadata: the ids FreeSWITCH, jambonz and drachtio apps use are all understood', () => {
  const jambonz = parseMetadata(
    JSON.stringify({ callSid: 'c1', from: '+7999', to: '122', sampleRate: 8000 }),
    'x',
  );
  assert.ok(jambonz.ok);
  assert.deepEqual(
    { ...jambonz.value, raw: undefined },
    { callId: 'c1', caller: '+7999', called: '122', sampleRate: 8000, raw: undefined },
  );
  const fs = parseMetadata(
    JSON.stringify({ uuid: 'u1', caller_id_number: '+7988', destination_number: '122', rate: '16k' }),
    'x',
  );
  assert.ok(fs.ok);
  assert.equal(fs.value.callId, 'u1');
  assert.equal(fs.value.caller, '+7988');
  assert.equal(fs.value.sampleRate, 16000);
  const bare = parseMetadata('{}', 'fallback-id');
  assert.ok(bare.ok);
  assert.equal(bare.value.callId, 'fallback-id');
  assert.equal(bare.value.sampleRate, 8000);
});

test('metadata: a sample rate other than 8 or 16 kHz, or no JSON object, is malformed', () => {
  const r = parseMetadata(JSON.stringify({ callId: 'a', sampleRate: 44100 }), 'x');
  assert.deepEqual(r.ok ? null : r.problem, 'bad_metadata');
  const arr = parseMetadata('[1,2]', 'x');
  assert.deepEqual(arr.ok ? null : arr.problem, 'bad_json');
});

test('DTMF events in every format seen in the wild', () => {
  for (const msg of [
    { event: 'dtmf', dtmf: '5', duration: '240' },
    { event: 'dtmf', digit: '5' },
    { type: 'dtmf', data: { digit: '5' } },
    { event: 'dtmf', dtmf: { digit: '5' } },
  ]) {
    const r = parseEvent(JSON.stringify(msg));
    assert.ok(r.ok && r.value.kind === 'dtmf' && r.value.digit === '5', JSON.stringify(msg));
  }
  const r = parseEvent(JSON.stringify({ event: 'dtmf', dtmf: '5', duration: '240' }));
  assert.ok(r.ok && r.value.kind === 'dtmf' && r.value.durationMs === 240);
  const bad = parseEvent(JSON.stringify({ event: 'dtmf', dtmf: '55' }));
  assert.equal(bad.ok ? null : bad.problem, 'unknown_type');
});

test('telephony’s hold and unhold become the hold event; a hold without held is malformed', () => {
  for (const held of [true, false]) {
    const r = parseEvent(JSON.stringify({ event: 'hold', held }));
    assert.deepEqual(r, { ok: true, value: { kind: 'hold', held } });
  }
  const bad = parseEvent(JSON.stringify({ event: 'hold' }));
  assert.equal(bad.ok ? null : bad.problem, 'unknown_type');
});

test('L16 frames round-trip little-endian; an odd byte count is malformed', () => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768]);
  const bytes = encodeL16(samples);
  assert.deepEqual([...bytes.subarray(0, 6)], [0, 0, 1, 0, 0xff, 0xff]);
  const back = decodeL16(bytes);
  assert.ok(back.ok);
  assert.deepEqual([...back.value], [...samples]);
  const odd = decodeL16(Buffer.alloc(3));
  assert.equal(odd.ok ? null : odd.problem, 'odd_length');
});

test('playAudio carries base64 raw L16 with its sample rate', () => {
  const msg = JSON.parse(playAudioMessage(Int16Array.from([1, 2]), 8000));
  assert.equal(msg.type, 'playAudio');
  assert.equal(msg.data.audioContentType, 'raw');
  assert.equal(msg.data.sampleRate, 8000);
  assert.deepEqual([...Buffer.from(msg.data.audioContent, 'base64')], [1, 0, 2, 0]);
});
