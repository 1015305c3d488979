import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VadEvent } from '../types.js';
import { SpeechEndpointer } from './endpointer.js';

/** Feeds a probability track of 32 ms windows (the 8 kHz Silero window) and collects the events. */
function run(track: number[], opts: ConstructorParameters<typeof SpeechEndpointer>[0]): VadEvent[] {
  const e = new SpeechEndpointer(opts);
  const events = track.flatMap((p, i) => e.update(p, i * opts.windowMs));
  return [...events, ...e.finish(track.length * opts.windowMs)];
}

const W = 32;
const windows = (ms: number, p: number) => Array<number>(Math.round(ms / W)).fill(p);

describe('speech endpointing', () => {
  it('reports where speech started and where the silence began, after the hangover', () => {
    const track = [...windows(320, 0.02), ...windows(960, 0.9), ...windows(1280, 0.02)];
    const events = run(track, { windowMs: W, hangoverMs: 640, minSpeechMs: 250 });
    assert.deepEqual(events, [
      { type: 'speech_start', atMs: 320 },
      { type: 'speech_end', atMs: 1280 },
    ]);
  });

  it('ignores a click shorter than minSpeechMs', () => {
    const track = [...windows(320, 0.02), ...windows(96, 0.95), ...windows(1000, 0.02)];
    assert.deepEqual(run(track, { windowMs: W, minSpeechMs: 250 }), []);
  });

  it('keeps one turn through a pause shorter than the hangover', () => {
    const track = [...windows(640, 0.9), ...windows(320, 0.05), ...windows(640, 0.9), ...windows(1000, 0.05)];
    const events = run(track, { windowMs: W, hangoverMs: 500 });
    assert.equal(events.length, 2);
    assert.equal(events[1]!.atMs, 1600);
  });

  it('does not end a turn while the probability hovers just under the threshold (hysteresis)', () => {
    const track = [...windows(640, 0.9), ...windows(1600, 0.4), ...windows(800, 0.05)];
    const events = run(track, { windowMs: W, hangoverMs: 500 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_start', 'speech_end'],
    );
    assert.equal(events[1]!.atMs, 2240);
  });

  it('cuts an endless turn at maxSpeechMs and closes an open turn at the end of the stream', () => {
    const events = run(windows(3200, 0.9), { windowMs: W, maxSpeechMs: 1600, minSpeechMs: 64 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_start', 'speech_end', 'speech_start', 'speech_end'],
    );
    assert.equal(events.at(-1)!.atMs, 3200);
  });

  it('rejects nonsense settings', () => {
    assert.throws(() => new SpeechEndpointer({ windowMs: W, threshold: 1.5 }), /threshold/);
    assert.throws(() => new SpeechEndpointer({ windowMs: W, hangoverMs: -1 }), /hangoverMs/);
  });
});
