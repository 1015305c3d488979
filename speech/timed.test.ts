/**
 * The timed speech engines: real espeak-ng speech through the real Silero VAD, each call observed in the
 * metrics' histograms, and the audio the same as without the timing. The ASR is timed the same way; no
 * Russian Vosk model is installed here, so its stream is not exercised.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../core/log.js';
import { createMetrics } from '../core/metrics.js';
import { timeSpeech } from './timed.js';
import { EspeakTtsEngine } from './tts/espeak.js';
import { synthesizeAll } from './tts/streaming.js';
import type { AsrEngine } from './types.js';
import { createVadEngine } from './vad/index.js';

const tts = new EspeakTtsEngine();
const missing = tts.state().status === 'ready' ? false : 'espeak-ng is not installed';

/** An ASR whose model is absent, as here: timing must not change what its state says. */
const noAsr: AsrEngine = {
  name: 'none',
  state: () => ({ status: 'model_missing', message: 'нет модели' }),
  createStream: () => Promise.reject(new Error('нет модели')),
};

describe('timed speech engines', { skip: missing }, () => {
  it('observes VAD pushes and the time to the first synthesized audio', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const vad = createVadEngine({ log: silentLogger });
    const speech = timeSpeech({ vad, asr: noAsr, tts, close: async () => {} }, metrics);
    const audio = await synthesizeAll(
      speech.tts.synthesize('Запишите меня к терапевту', { sampleRate: 8000 }),
    );
    assert.ok(audio.samples.length > 8000, 'the timed engine speaks as the engine does');
    const stream = await speech.vad.createStream({ sampleRate: 8000 });
    for (let i = 0; i < audio.samples.length; i += 160) await stream.push(audio.samples.subarray(i, i + 160));
    await stream.flush();
    stream.close?.();
    assert.equal(speech.asr.state().status, 'model_missing');
    const vadCount = (await metrics.vadLatency.get()).values.find((v) => v.metricName?.endsWith('_count'));
    const ttsCount = (await metrics.ttsLatency.get()).values.find((v) => v.metricName?.endsWith('_count'));
    assert.equal(vadCount?.value, Math.ceil(audio.samples.length / 160));
    assert.equal(ttsCount?.value, 1);
  });
});
