import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isOtklikError } from '../../core/errors.js';
import { dbfs, durationMs } from '../../media/audio/pcm.js';
import { normalizeForSpeech } from './normalize.js';
import { loadPiperConfig, phonemesToIds, phonemizeIpa } from './phonemize.js';
import { PiperTtsEngine } from './piper.js';
import { synthesizeAll } from './streaming.js';
import { FAKE_SAMPLES_PER_ID, fakePiperVoiceModel } from './testing/fake-piper-voice.js';

const configDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../models/piper-ru');
const configs = existsSync(configDir) ? readdirSync(configDir).filter((f) => f.endsWith('.onnx.json')) : [];

const SENTENCES = [
  'Здравствуйте, вы позвонили на линию сто двадцать два.',
  'Запишите меня к терапевту на завтра!',
  'Где получить справку о прививках?',
  normalizeForSpeech('МФЦ работает с 9:00 до 18:00; телефон 8-800-200-01-22.'),
  'Ещё вопрос: выплаты участникам специальной военной операции и их семьям.',
];

describe('Piper: text to phoneme ids', () => {
  it('ships the four Russian voice configs', () => {
    assert.deepEqual(configs.sort(), [
      'ru_RU-denis-medium.onnx.json',
      'ru_RU-dmitri-medium.onnx.json',
      'ru_RU-irina-medium.onnx.json',
      'ru_RU-ruslan-medium.onnx.json',
    ]);
  });

  it('phonemizes Russian with espeak-ng IPA and keeps the clause punctuation', async () => {
    assert.equal(await phonemizeIpa('Здравствуйте, вы позвонили.'), 'zdrˈɑvstvujtʲi, vˈy pʌzvʌnʲˈiɭʲɪ.');
  });

  for (const file of configs) {
    it(`${file}: known phoneme strings map with zero unknown symbols`, async () => {
      const config = await loadPiperConfig(join(configDir, file));
      const map = config.phoneme_id_map;
      for (const sentence of SENTENCES) {
        const phonemes = await phonemizeIpa(sentence);
        const { ids, unknown } = phonemesToIds(phonemes, map);
        assert.deepEqual(unknown, [], `${file}: «${sentence}» → ${phonemes}`);
        assert.deepEqual(ids.slice(0, 2), [...map['^']!, ...map._!], 'starts with ^ and _');
        assert.deepEqual(ids.slice(-1), map.$, 'ends with $');
        // Every phoneme is followed by the pad id.
        assert.equal(ids.length, 3 + 2 * Array.from(phonemes.normalize('NFD')).length);
        for (let i = 3; i < ids.length - 1; i += 2) assert.equal(ids[i], map._![0]);
      }
    });
  }

  it('maps a known string to the ids the voice config gives', async () => {
    const config = await loadPiperConfig(join(configDir, 'ru_RU-irina-medium.onnx.json'));
    const m = config.phoneme_id_map;
    const { ids } = phonemesToIds('dˈɑ.', m);
    const id = (symbol: string) => m[symbol]![0];
    assert.deepEqual(ids, [1, 0, id('d'), 0, id('ˈ'), 0, id('ɑ'), 0, id('.'), 0, 2]);
  });

  it('reports unknown symbols instead of failing', () => {
    const { unknown } = phonemesToIds('a☃b', { '^': [1], _: [0], $: [2], a: [14], b: [15] });
    assert.deepEqual(unknown, ['☃']);
  });

  it('rejects a broken voice config with a clear error', async () => {
    await assert.rejects(loadPiperConfig('/nonexistent.onnx.json'), (err) =>
      isOtklikError(err, 'MODEL_MISSING'),
    );
  });
});

const voicePath = process.env.PIPER_VOICE_PATH;
const skipInference = !voicePath
  ? 'skipped: no Piper voice here (set PIPER_VOICE_PATH to a ru_RU-*.onnx file to run Piper inference)'
  : !existsSync(voicePath)
    ? `skipped: PIPER_VOICE_PATH=${voicePath} does not exist`
    : false;

describe('Piper inference', () => {
  it('reports a missing voice as model_missing', () => {
    const engine = new PiperTtsEngine({ modelPath: '/nonexistent/ru_RU-irina-medium.onnx' });
    assert.equal(engine.state().status, 'model_missing');
    assert.equal(new PiperTtsEngine().state().status, 'model_missing');
  });

  it('runs the inference path on a model with the Piper signature (a test fixture, not a voice)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otklik-fake-piper-'));
    const modelPath = join(dir, 'ru_RU-irina-medium.onnx');
    writeFileSync(modelPath, fakePiperVoiceModel());
    const engine = new PiperTtsEngine({ modelPath });
    assert.deepEqual(engine.state(), { status: 'ready' }, 'the config is found in models/piper-ru');
    const config = await loadPiperConfig(join(configDir, 'ru_RU-irina-medium.onnx.json'));
    const sentences = ['Добрый день.', 'Чем могу помочь?'];
    const chunks = [];
    for await (const c of engine.synthesize(sentences.join(' '))) chunks.push(c);
    assert.deepEqual(
      chunks.map((c) => c.text),
      sentences,
    );
    for (const [i, chunk] of chunks.entries()) {
      const { ids } = phonemesToIds(await phonemizeIpa(sentences[i]!), config.phoneme_id_map);
      assert.equal(chunk.audio.sampleRate, 22050);
      assert.equal(
        chunk.audio.samples.length,
        ids.length * FAKE_SAMPLES_PER_ID,
        'one output frame per phoneme id',
      );
    }
    const at8k = await synthesizeAll(engine.synthesize('Добрый день.', { sampleRate: 8000 }));
    assert.equal(at8k.sampleRate, 8000);
    assert.equal(at8k.samples.length, Math.ceil((chunks[0]!.audio.samples.length * 8000) / 22050));
    rmSync(dir, { recursive: true, force: true });
  });

  it('synthesizes Russian with the voice in PIPER_VOICE_PATH', { skip: skipInference }, async () => {
    const engine = new PiperTtsEngine({ modelPath: voicePath });
    assert.deepEqual(engine.state(), { status: 'ready' });
    const audio = await synthesizeAll(
      engine.synthesize('Здравствуйте, чем могу помочь?', { sampleRate: 8000 }),
    );
    assert.equal(audio.sampleRate, 8000);
    assert.ok(durationMs(audio) > 800 && durationMs(audio) < 5000, `${durationMs(audio)} ms`);
    assert.ok(dbfs(audio.samples) > -35);
  });
});
