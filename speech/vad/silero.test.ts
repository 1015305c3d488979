import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../../core/errors.js';
import { concatSamples, findAudibleRange, samplesForMs, tone } from '../../media/audio/pcm.js';
import { EspeakTtsEngine } from '../tts/espeak.js';
import { FestivalTtsEngine } from '../tts/festival.js';
import { synthesizeAll } from '../tts/streaming.js';
import type { PcmAudio, TtsEngine, VadEvent } from '../types.js';
import { createVadEngine } from './index.js';
import { SileroVadEngine } from './silero.js';

const TOLERANCE_MS = 150;

/** silence + speech + silence + speech + silence, with the true speech boundaries in milliseconds. */
function buildTestAudio(first: PcmAudio, second: PcmAudio, rate: number) {
  const trim = (a: PcmAudio) => {
    const r = findAudibleRange(a, -45)!;
    return a.samples.subarray(r.startSample, r.endSample);
  };
  const a = trim(first);
  const b = trim(second);
  const gap = (ms: number) => new Int16Array(samplesForMs(rate, ms));
  const s1 = samplesForMs(rate, 700);
  const e1 = s1 + a.length;
  const s2 = e1 + samplesForMs(rate, 1500);
  const e2 = s2 + b.length;
  const samples = concatSamples([gap(700), a, gap(1500), b, gap(1200)]);
  const ms = (n: number) => (n * 1000) / rate;
  return { samples, truth: [ms(s1), ms(e1), ms(s2), ms(e2)] };
}

async function detect(samples: Int16Array, rate: 8000 | 16000): Promise<VadEvent[]> {
  const stream = await createVadEngine().createStream({
    sampleRate: rate,
    hangoverMs: 600,
    minSpeechMs: 200,
  });
  const events: VadEvent[] = [];
  const frame = samplesForMs(rate, 20);
  for (let i = 0; i < samples.length; i += frame)
    events.push(...(await stream.push(samples.subarray(i, i + frame))));
  events.push(...(await stream.flush()));
  return events;
}

function assertSegments(events: VadEvent[], truth: number[], label: string): void {
  const described = events.map((e) => `${e.type}@${Math.round(e.atMs)}`).join(' ');
  assert.deepEqual(
    events.map((e) => e.type),
    ['speech_start', 'speech_end', 'speech_start', 'speech_end'],
    `${label}: ${described}; speech is at ${truth.map(Math.round).join(', ')} ms`,
  );
  events.forEach((e, i) => {
    assert.ok(
      Math.abs(e.atMs - truth[i]!) <= TOLERANCE_MS,
      `${label}: ${e.type} at ${Math.round(e.atMs)} ms, speech boundary at ${Math.round(truth[i]!)} ms`,
    );
  });
}

const engines: { engine: TtsEngine & { close?: () => Promise<void> }; phrases: [string, string] }[] = [
  {
    engine: new EspeakTtsEngine(),
    phrases: [
      'Здравствуйте, вы позвонили на линию сто двадцать два.',
      'Запишите меня к терапевту на завтра.',
    ],
  },
  {
    engine: new FestivalTtsEngine({ workers: 1 }),
    phrases: ['Здравствуйте, чем могу помочь?', 'Мне нужна справка о прививках.'],
  },
];

describe('Silero VAD on synthesized Russian speech', () => {
  after(async () => {
    for (const { engine } of engines) await engine.close?.();
  });

  for (const { engine, phrases } of engines) {
    const missing =
      engine.state().status === 'ready'
        ? false
        : `${engine.name}: ${(engine.state() as { message: string }).message}`;
    for (const rate of [8000, 16000] as const) {
      it(`finds both ${engine.name} phrases at ${rate} Hz within ${TOLERANCE_MS} ms`, {
        skip: missing,
      }, async () => {
        const [first, second] = await Promise.all(
          phrases.map((p) => synthesizeAll(engine.synthesize(p, { sampleRate: rate }))),
        );
        assert.equal(first!.sampleRate, rate);
        const { samples, truth } = buildTestAudio(first!, second!, rate);
        assertSegments(await detect(samples, rate), truth, `${engine.name} ${rate} Hz`);
      });
    }
  }
});

describe('Silero VAD streams', () => {
  let speech: PcmAudio;
  before(async () => {
    speech = await synthesizeAll(
      new EspeakTtsEngine().synthesize('Добрый день, мне нужна помощь.', { sampleRate: 8000 }),
    );
  });

  it('hands over the audio from preRollMs before the onset on speech_start', async () => {
    const stream = await createVadEngine().createStream({ sampleRate: 8000, preRollMs: 200 });
    const samples = concatSamples([new Int16Array(8000), speech.samples, new Int16Array(8000)]);
    let start: VadEvent | undefined;
    let pushed = 0;
    for (let i = 0; i < samples.length && !start; i += 160) {
      const frame = samples.subarray(i, i + 160);
      pushed += frame.length;
      start = (await stream.push(frame)).find((e) => e.type === 'speech_start');
    }
    assert.ok(start?.audio, 'speech_start carries audio');
    const fromSample = Math.round((start.atMs * 8000) / 1000) - 1600;
    assert.equal(start.audio.length, pushed - fromSample);
    assert.deepEqual(start.audio, samples.subarray(fromSample, pushed));
  });

  it('finds no speech in silence or a steady tone', async () => {
    const stream = await createVadEngine().createStream({ sampleRate: 8000 });
    const quiet = concatSamples([new Int16Array(16000), tone(8000, 1000, 2000, 0.3).samples]);
    const events: VadEvent[] = [];
    for (let i = 0; i < quiet.length; i += 160)
      events.push(...(await stream.push(quiet.subarray(i, i + 160))));
    events.push(...(await stream.flush()));
    assert.deepEqual(events, []);
    assert.ok(stream.lastProbability < 0.5);
  });

  it('keeps separate streams independent', async () => {
    const engine = createVadEngine();
    const [a, b] = await Promise.all([
      engine.createStream({ sampleRate: 8000 }),
      engine.createStream({ sampleRate: 8000 }),
    ]);
    const withSpeech = concatSamples([new Int16Array(4000), speech.samples, new Int16Array(8000)]);
    const quiet = new Int16Array(withSpeech.length);
    const eventsA: VadEvent[] = [];
    const eventsB: VadEvent[] = [];
    for (let i = 0; i < withSpeech.length; i += 160) {
      const [ea, eb] = await Promise.all([
        a.push(withSpeech.subarray(i, i + 160)),
        b.push(quiet.subarray(i, i + 160)),
      ]);
      eventsA.push(...ea);
      eventsB.push(...eb);
    }
    assert.equal(eventsA.filter((e) => e.type === 'speech_start').length, 1);
    assert.deepEqual(eventsB, []);
  });

  it('reports a missing model clearly and keeps working otherwise', async () => {
    const engine = new SileroVadEngine({ modelPath: '/nonexistent/silero_vad.onnx' });
    const state = engine.state();
    assert.equal(state.status, 'model_missing');
    assert.match(
      (state as { message: string }).message,
      /Silero VAD model not found.*\/nonexistent\/silero_vad\.onnx/,
    );
    await assert.rejects(engine.createStream({ sampleRate: 8000 }), (err) =>
      isOtklikError(err, 'MODEL_MISSING'),
    );
    assert.equal(createVadEngine().state().status, 'ready', 'the shipped model is found in the npm package');
  });

  it('rejects sample rates the model does not support', async () => {
    await assert.rejects(
      createVadEngine().createStream({ sampleRate: 22050 as 8000 }),
      (err) => isOtklikError(err, 'VALIDATION_FAILED') && /8000 and 16000/.test(err.message),
    );
  });
});
