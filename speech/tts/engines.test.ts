import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../core/config.js';
import { isOtklikError } from '../../core/errors.js';
import { dbfs, durationMs, findAudibleRange } from '../../media/audio/pcm.js';
import type { TtsChunk, TtsEngine } from '../types.js';
import { EspeakTtsEngine } from './espeak.js';
import { FestivalTtsEngine } from './festival.js';
import { createTtsEngine } from './index.js';
import { synthesizeAll } from './streaming.js';

const festival = new FestivalTtsEngine({ workers: 1 });
const engines: TtsEngine[] = [new EspeakTtsEngine(), festival];
const unavailable = (e: TtsEngine) =>
  e.state().status === 'ready' ? false : `${e.name}: ${(e.state() as { message: string }).message}`;

/** Russian is spoken at roughly 2-4 words a second; synthetic voices stay within 1.5-6. */
function assertPlausibleDuration(ms: number, words: number, label: string): void {
  const perSecond = words / (ms / 1000);
  assert.ok(
    perSecond > 1.2 && perSecond < 6,
    `${label}: ${words} words in ${Math.round(ms)} ms (${perSecond.toFixed(1)} words/s)`,
  );
}

describe('TTS engines speak Russian', () => {
  after(() => festival.close());

  for (const engine of engines) {
    for (const rate of [8000, 16000]) {
      it(`${engine.name}: a sentence at ${rate} Hz has a plausible duration and level`, {
        skip: unavailable(engine),
      }, async () => {
        const text = 'Ваша заявка зарегистрирована, оператор перезвонит вам в течение дня.';
        const audio = await synthesizeAll(engine.synthesize(text, { sampleRate: rate }));
        assert.equal(audio.sampleRate, rate);
        const speech = findAudibleRange(audio, -45);
        assert.ok(speech, 'the audio is not silent');
        assertPlausibleDuration(speech.endMs - speech.startMs, 10, engine.name);
        const level = dbfs(audio.samples.subarray(speech.startSample, speech.endSample));
        assert.ok(level > -35, `${engine.name}: speech level ${level.toFixed(1)} dBFS`);
      });
    }

    it(`${engine.name}: streams sentence by sentence, the last chunk marked`, {
      skip: unavailable(engine),
    }, async () => {
      const chunks: TtsChunk[] = [];
      for await (const c of engine.synthesize('Здравствуйте! МФЦ работает с 9:00 до 18:00. До свидания.', {
        sampleRate: 8000,
      })) {
        chunks.push(c);
      }
      assert.deepEqual(
        chunks.map((c) => c.text),
        ['Здравствуйте!', 'эм эф цэ работает с девяти до восемнадцати часов.', 'До свидания.'],
      );
      assert.deepEqual(
        chunks.map((c) => c.last),
        [false, false, true],
      );
      // The long middle sentence takes longer to say than the greeting.
      assert.ok(durationMs(chunks[1]!.audio) > durationMs(chunks[0]!.audio));
    });

    it(`${engine.name}: stops when the caller interrupts`, { skip: unavailable(engine) }, async () => {
      const controller = new AbortController();
      const chunks: TtsChunk[] = [];
      await assert.rejects(
        (async () => {
          for await (const c of engine.synthesize(
            'Первое предложение. Второе предложение. Третье предложение.',
            {
              signal: controller.signal,
            },
          )) {
            chunks.push(c);
            controller.abort();
          }
        })(),
        (err) => isOtklikError(err, 'CANCELLED'),
      );
      assert.equal(chunks.length, 1);
    });
  }

  it('festival: reads abbreviations, numbers and a missing space after a full stop', {
    skip: unavailable(festival),
  }, async () => {
    const audio = await synthesizeAll(festival.synthesize('Адрес МФЦ.Приём с 9:00.', { sampleRate: 8000 }));
    assert.ok(durationMs(audio) > 1000);
  });

  it('an engine whose binary is missing says so', () => {
    const missing = new FestivalTtsEngine({ binary: '/nonexistent/festival' });
    assert.equal(missing.state().status, 'model_missing');
    assert.match((missing.state() as { message: string }).message, /festival is not installed/);
  });
});

describe('createTtsEngine', () => {
  it('falls back to espeak-ng when the Piper voice is missing, and says so', async () => {
    const config = loadConfig(
      {},
      {
        'speech.tts': 'piper',
        'speech.piperVoicePath': '/nonexistent/ru_RU-irina-medium.onnx',
        'speech.cacheDir': '/tmp/otklik-tts-fallback-test',
      },
    );
    const tts = createTtsEngine(config.speech);
    const state = tts.state();
    assert.equal(state.status, 'ready');
    assert.match((state as { message?: string }).message ?? '', /piper unavailable.*speaking with espeak/);
    assert.equal(tts.name, 'espeak');
    const audio = await synthesizeAll(tts.synthesize('Проверка связи.', { sampleRate: 8000 }));
    assert.ok(durationMs(audio) > 300);
    await tts.close();
  });

  it('uses the configured engine when it is there', { skip: unavailable(festival) }, async () => {
    const config = loadConfig(
      {},
      { 'speech.tts': 'festival', 'speech.cacheDir': '/tmp/otklik-tts-festival-test' },
    );
    const tts = createTtsEngine(config.speech);
    assert.deepEqual(tts.state(), { status: 'ready' });
    assert.equal(tts.name, 'festival');
    await tts.close();
  });
});

describe('TTS fallback on a broken engine', () => {
  it('a damaged Piper voice file: espeak-ng speaks the whole answer and the state says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otklik-piper-broken-'));
    const voice = join(dir, 'ru_RU-irina-medium.onnx');
    writeFileSync(voice, 'this is not an onnx model');
    const config = loadConfig(
      {},
      { 'speech.tts': 'piper', 'speech.piperVoicePath': voice, 'speech.cacheDir': join(dir, 'cache') },
    );
    const tts = createTtsEngine(config.speech);
    assert.deepEqual(
      tts.state(),
      { status: 'ready' },
      'the file is there, so Piper looks usable until it is loaded',
    );
    const chunks: TtsChunk[] = [];
    for await (const c of tts.synthesize('Добрый день. Чем могу помочь?', { sampleRate: 8000 }))
      chunks.push(c);
    assert.deepEqual(
      chunks.map((c) => c.text),
      ['Добрый день.', 'Чем могу помочь?'],
    );
    assert.ok(chunks.every((c) => c.audio.sampleRate === 8000 && durationMs(c.audio) > 300));
    const state = tts.state();
    assert.equal(state.status, 'ready');
    assert.match(
      (state as { message?: string }).message ?? '',
      /piper unavailable \(Piper voice .* cannot be loaded.*speaking with espeak/,
    );
    assert.equal(tts.name, 'espeak');
    await tts.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
