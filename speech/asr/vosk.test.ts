import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { isOtklikError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import { resample } from '../../media/audio/resample.js';
import { readWav } from '../../media/audio/wav.js';
import {
  checkVoskModelDir,
  createVoskEngine,
  loadVoskLibrary,
  parseVoskResult,
  recognizerGrammar,
  type VoskAsrEngine,
  voskGrammar,
} from './index.js';

const modelPath = process.env.VOSK_MODEL_PATH ?? '';
const modelSkip = !modelPath
  ? 'no Vosk model: set VOSK_MODEL_PATH to an installed model (otklik models fetch vosk-model-small-ru-0.22) to run recognition tests'
  : checkVoskModelDir(modelPath).status !== 'ok'
    ? `VOSK_MODEL_PATH=${modelPath} is not a usable Vosk model`
    : false;

async function espeak16k(text: string): Promise<Int16Array> {
  const { stdout } = await promisify(execFile)('espeak-ng', ['-v', 'ru', '--stdout', text], {
    encoding: 'buffer',
    maxBuffer: 32 * 1024 * 1024,
  });
  const wav = readWav(stdout);
  return resample(wav.samples, wav.sampleRate, 16000);
}

describe('libvosk through koffi', () => {
  test('loads the shared library from the npm vosk package', () => {
    const lib = loadVoskLibrary();
    assert.match(lib.path, /vosk\/lib\/linux-x86_64\/libvosk\.so$/);
    lib.setLogLevel(-1);
    const pkg = createRequire(import.meta.url)('vosk/package.json') as { version: string };
    const [major, minor, patch] = pkg.version.split('.').map(Number);
    // accept_waveform_s and set_words, which the adapter binds, exist from 0.3.3x on.
    assert.ok(major! > 0 || minor! > 3 || (minor === 3 && patch! >= 30), `vosk ${pkg.version}`);
  });

  test('parses Vosk JSON into text, word timings and confidence', () => {
    const final = parseVoskResult(
      '{"result":[{"conf":1.0,"end":0.9,"start":0.3,"word":"запись"},{"conf":0.5,"end":1.4,"start":0.9,"word":"к"}],"text":"запись к"}',
      true,
    );
    assert.equal(final.text, 'запись к');
    assert.equal(final.confidence, 0.75);
    assert.deepEqual(final.words[0], { word: 'запись', startMs: 300, endMs: 900, confidence: 1 });
    const unknown = parseVoskResult(
      '{"result":[{"conf":0.4,"end":1,"start":0,"word":"[unk]"}],"text":"[unk] да"}',
      true,
    );
    assert.equal(unknown.text, 'да');
    assert.deepEqual(unknown.words, []);
    const partial = parseVoskResult('{"partial":"запи"}', false);
    assert.deepEqual(partial, { text: 'запи', final: false, confidence: 0, words: [] });
  });
});

describe('Vosk recognizer: hints stay open, only a grammar closes', () => {
  /** A model vocabulary of a few words (the real one is the model's word list). */
  const words = new Set(['да', 'нет', 'заречный', 'район', 'поликлиника', 'номер', 'один', 'зеленый']);
  const model = { dynamicGraph: true, known: (w: string) => words.has(w) };
  const vocabulary = ['Заречный район', 'городская поликлиника номер один', 'да', 'нет'];

  test('the knowledge base vocabulary as hints leaves the recognizer open', () => {
    // A grammar of these would turn every other question of a caller into [unk], i.e. no text at all.
    assert.equal(recognizerGrammar({ hints: vocabulary }, model), null);
    assert.equal(recognizerGrammar({ hints: ['да', 'нет'] }, model), null);
  });

  test('an explicit grammar restricts the recognizer to its phrases (and [unk])', () => {
    assert.deepEqual(JSON.parse(recognizerGrammar({ grammar: ['Да', 'нет'], hints: vocabulary }, model)!), [
      'да',
      'нет',
      '[unk]',
    ]);
    // Phrases with a word the model does not know are left out; ё falls back to е where the model has only that.
    assert.deepEqual(JSON.parse(voskGrammar(vocabulary.concat('Зелёный'), model.known)!), [
      'заречный район',
      'да',
      'нет',
      'зеленый',
      '[unk]',
    ]);
    assert.equal(voskGrammar(['городская больница'], model.known), null);
    // A large model (static graph) cannot take a grammar: it recognizes openly.
    assert.equal(recognizerGrammar({ grammar: ['да', 'нет'] }, { ...model, dynamicGraph: false }), null);
  });
});

describe('Vosk engine without a usable model', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-vosk-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing model is a state naming the path and the fetch command; streams fail MODEL_MISSING', async () => {
    const engine = createVoskEngine({ modelPath: join(dir, 'absent'), log: silentLogger });
    const state = engine.state();
    assert.equal(state.status, 'model_missing');
    assert.ok(state.status === 'model_missing' && state.message.includes(join(dir, 'absent')));
    assert.ok(
      state.status === 'model_missing' &&
        state.message.includes('otklik models fetch vosk-model-small-ru-0.22'),
    );
    await assert.rejects(engine.createStream({ sampleRate: 16000 }), (err) =>
      isOtklikError(err, 'MODEL_MISSING'),
    );
    engine.close();
  });

  test('a model folder with missing or corrupt files is reported broken before Vosk reads it', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(join(broken, 'am'), { recursive: true });
    mkdirSync(join(broken, 'conf'), { recursive: true });
    writeFileSync(join(broken, 'am/final.mdl'), 'this is not a Kaldi model');
    writeFileSync(join(broken, 'conf/mfcc.conf'), '--sample-frequency=16000\n');
    const engine = createVoskEngine({ modelPath: broken, log: silentLogger });
    const state = engine.state();
    assert.equal(state.status, 'failed');
    const message = state.status === 'failed' ? state.message : '';
    assert.match(message, /am\/final\.mdl is not a valid Kaldi binary file/);
    assert.match(message, /conf\/model\.conf is missing/);
    assert.match(message, /graph\/HCLr\.fst is missing/);
    await assert.rejects(engine.createStream({ sampleRate: 16000 }), (err) =>
      isOtklikError(err, 'MODEL_BROKEN'),
    );
    engine.close();
  });

  test('a truncated file of a manifest model is caught by its expected size', () => {
    const model = join(dir, 'truncated');
    mkdirSync(join(model, 'am'), { recursive: true });
    mkdirSync(join(model, 'conf'), { recursive: true });
    mkdirSync(join(model, 'graph'), { recursive: true });
    writeFileSync(join(model, 'am/final.mdl'), Buffer.from([0, 0x42, 1, 2, 3]));
    writeFileSync(join(model, 'conf/mfcc.conf'), 'x');
    writeFileSync(join(model, 'conf/model.conf'), 'x');
    const fst = Buffer.from([0xd6, 0xfd, 0xb2, 0x7e, 0, 0]);
    writeFileSync(join(model, 'graph/HCLr.fst'), fst);
    writeFileSync(join(model, 'graph/Gr.fst'), fst);
    assert.equal(checkVoskModelDir(model).status, 'ok');
    const state = checkVoskModelDir(model, { 'am/final.mdl': 15862383 });
    assert.equal(state.status, 'broken');
    assert.ok(
      state.status === 'broken' && state.problems[0] === 'am/final.mdl has 5 bytes, expected 15862383',
    );
  });

  test('an impossible sample rate is a validation error', async () => {
    const engine = createVoskEngine({ modelPath: join(dir, 'absent'), log: silentLogger });
    await assert.rejects(engine.createStream({ sampleRate: 123 }), (err) =>
      isOtklikError(err, 'VALIDATION_FAILED'),
    );
  });
});

describe('Vosk recognition with an installed model', { skip: modelSkip }, () => {
  let engine: VoskAsrEngine;
  before(async () => {
    engine = createVoskEngine({ modelPath, log: silentLogger });
    await engine.load();
  });
  after(() => engine.close());

  test('recognizes synthesized Russian speech with word timings', async () => {
    const audio = await espeak16k('запись к врачу');
    const stream = await engine.createStream({ sampleRate: 16000 });
    const partials: string[] = [];
    for (let i = 0; i < audio.length; i += 3200) {
      const r = await stream.push(audio.subarray(i, i + 3200));
      if (r && !r.final) partials.push(r.text);
    }
    const result = await stream.finish();
    stream.close();
    assert.equal(result.final, true);
    assert.ok(result.text.length > 0, 'some text is recognized');
    assert.ok(result.words.length > 0 && result.words.every((w) => w.endMs >= w.startMs));
    assert.ok(result.confidence > 0 && result.confidence <= 1);
  });

  test('a grammar restricts a recognizer to the given phrases', async () => {
    const audio = await espeak16k('да');
    const stream = await engine.createStream({ sampleRate: 16000, grammar: ['да', 'нет'] });
    await stream.push(audio);
    const result = await stream.finish();
    stream.close();
    assert.ok(['да', 'нет', ''].includes(result.text), result.text);
  });

  test('hints do not close the recognizer: speech outside them is still recognized', async () => {
    const audio = await espeak16k('запись к врачу');
    const stream = await engine.createStream({ sampleRate: 16000, hints: ['да', 'нет', 'заречный район'] });
    await stream.push(audio);
    const result = await stream.finish();
    stream.close();
    assert.ok(
      result.text.split(' ').some((w) => !['да', 'нет', 'заречный', 'район'].includes(w)),
      result.text,
    );
  });

  test('closing a stream frees its recognizer even while audio is being decoded', async () => {
    const audio = await espeak16k('прививка от гриппа');
    const before = engine.activeStreams();
    const stream = await engine.createStream({ sampleRate: 16000 });
    const pending = stream.push(audio);
    stream.close();
    await pending.catch(() => null);
    await assert.rejects(stream.push(audio), (err) => isOtklikError(err, 'CANCELLED'));
    for (let i = 0; i < 50 && engine.activeStreams() > before; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(engine.activeStreams(), before);
  });
});

// Guards the helper itself so a missing espeak-ng is a clear failure rather than a silent skip.
test('espeak-ng produces Russian audio for the recognition tests', async () => {
  const audio = await espeak16k('проверка');
  assert.ok(audio.length > 1600);
});
