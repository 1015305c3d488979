import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TtsChunk, TtsEngine, TtsOptions } from '../types.js';
import { CachedTtsEngine, TtsMemoryCache } from './cache.js';
import { EspeakTtsEngine } from './espeak.js';

/** The real espeak-ng engine, counting how often it is asked to speak. */
class CountingEngine implements TtsEngine {
  calls = 0;
  constructor(private readonly inner: TtsEngine) {}
  get name() {
    return this.inner.name;
  }
  state() {
    return this.inner.state();
  }
  voices() {
    return this.inner.voices();
  }
  synthesize(text: string, opts?: TtsOptions): AsyncIterable<TtsChunk> {
    this.calls++;
    return this.inner.synthesize(text, opts);
  }
}

async function collect(it: AsyncIterable<TtsChunk>): Promise<TtsChunk[]> {
  const out: TtsChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

describe('TTS cache in memory', () => {
  const text = 'Остались ли у вас вопросы?';

  it('answers a repeated text from memory without the engine or a disk', async () => {
    const engine = new CountingEngine(new EspeakTtsEngine());
    const memory = new TtsMemoryCache(8 * 1024 * 1024);
    const cache = new CachedTtsEngine(engine, { memory });
    const first = await collect(cache.synthesize(text, { sampleRate: 8000 }));
    assert.deepEqual([memory.hits, memory.misses, engine.calls], [0, 1, 1]);
    const second = await collect(cache.synthesize(text, { sampleRate: 8000 }));
    assert.deepEqual([memory.hits, memory.misses, engine.calls], [1, 1, 1]);
    assert.deepEqual(
      second.map((c) => [c.text, c.last, c.audio.samples]),
      first.map((c) => [c.text, c.last, c.audio.samples]),
    );
    assert.equal(memory.size, 1);
    assert.equal(cache.stats.writes, 0, 'no disk tier, nothing written');
  });

  it('fills from disk after a restart, and keeps an interrupted utterance out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otklik-tts-cache-'));
    await collect(new CachedTtsEngine(new EspeakTtsEngine(), { dir }).synthesize(text));
    const engine = new CountingEngine(new EspeakTtsEngine());
    const memory = new TtsMemoryCache(8 * 1024 * 1024);
    const restarted = new CachedTtsEngine(engine, { dir, memory });
    await collect(restarted.synthesize(text));
    await collect(restarted.synthesize(text));
    assert.equal(engine.calls, 0);
    assert.deepEqual([memory.hits, memory.misses, memory.size], [1, 1, 1]);

    for await (const _ of restarted.synthesize('Первое. Второе. Третье.')) break;
    assert.equal(memory.size, 1, 'half an answer is not kept');
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the least recently used utterance go when full', async () => {
    const engine = new EspeakTtsEngine();
    const one = await collect(engine.synthesize('Один.', { sampleRate: 8000 }));
    const bytes = one.reduce((n, c) => n + c.audio.samples.byteLength, 0);
    const memory = new TtsMemoryCache(Math.round(bytes * 2.5));
    const cache = new CachedTtsEngine(engine, { memory });
    for (const t of ['Один.', 'Один!', 'Один?']) await collect(cache.synthesize(t, { sampleRate: 8000 }));
    assert.equal(memory.size, 2);
    assert.ok(memory.bytes <= memory.maxBytes);
    const misses = memory.misses;
    await collect(cache.synthesize('Один?', { sampleRate: 8000 }));
    await collect(cache.synthesize('Один.', { sampleRate: 8000 }));
    assert.equal(memory.misses, misses + 1, 'the newest is kept, the oldest went');
  });
});

describe('TTS disk cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otklik-tts-cache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const text = 'Ваш вопрос передан оператору. Пожалуйста, оставайтесь на линии.';

  it('synthesizes once and then returns identical audio from disk without calling the engine', async () => {
    const engine = new CountingEngine(new EspeakTtsEngine());
    const cache = new CachedTtsEngine(engine, { dir });
    const first = await collect(cache.synthesize(text, { sampleRate: 8000 }));
    assert.equal(engine.calls, 1);
    assert.deepEqual(cache.stats, { hits: 0, misses: 1, writes: 1, errors: 0 });
    assert.deepEqual(filesUnder(dir), [cache.pathFor(text, { sampleRate: 8000 })]);

    const second = await collect(cache.synthesize(text, { sampleRate: 8000 }));
    assert.equal(engine.calls, 1, 'the engine was not asked again');
    assert.equal(cache.stats.hits, 1);
    assert.equal(second.length, first.length);
    second.forEach((c, i) => {
      assert.equal(c.text, first[i]!.text);
      assert.equal(c.last, first[i]!.last);
      assert.equal(c.audio.sampleRate, 8000);
      assert.deepEqual(c.audio.samples, first[i]!.audio.samples);
    });

    // A second cache over the same directory (another process, a restart) hits too.
    const restarted = new CachedTtsEngine(engine, { dir });
    await collect(restarted.synthesize(text, { sampleRate: 8000 }));
    assert.equal(engine.calls, 1);
    assert.equal(restarted.stats.hits, 1);
  });

  it('keys on the options and settings that change the audio', async () => {
    const engine = new CountingEngine(new EspeakTtsEngine());
    const cache = new CachedTtsEngine(engine, { dir, settings: { voice: 'ru' } });
    const a = cache.pathFor(text, { sampleRate: 8000 });
    assert.notEqual(a, cache.pathFor(text, { sampleRate: 16000 }));
    assert.notEqual(a, cache.pathFor(text, { sampleRate: 8000, rate: 1.2 }));
    assert.notEqual(a, cache.pathFor(`${text} `, { sampleRate: 8000 }));
    assert.notEqual(
      a,
      new CachedTtsEngine(engine, { dir, settings: { voice: 'ru+f3' } }).pathFor(text, { sampleRate: 8000 }),
    );
  });

  it('does not store an utterance that was interrupted', async () => {
    const local = mkdtempSync(join(tmpdir(), 'otklik-tts-cache-'));
    const cache = new CachedTtsEngine(new EspeakTtsEngine(), { dir: local });
    for await (const _ of cache.synthesize('Первое. Второе. Третье.', { sampleRate: 8000 })) break;
    assert.deepEqual(filesUnder(local), []);
    assert.equal(cache.stats.writes, 0);
    rmSync(local, { recursive: true, force: true });
  });

  it('replaces a damaged entry and keeps speaking when the directory is unusable', async () => {
    const engine = new CountingEngine(new EspeakTtsEngine());
    const cache = new CachedTtsEngine(engine, { dir });
    const path = cache.pathFor('Проверка.', {});
    await collect(cache.synthesize('Проверка.'));
    writeFileSync(path, 'garbage');
    const again = await collect(cache.synthesize('Проверка.'));
    assert.ok(again[0]!.audio.samples.length > 1000);
    assert.equal(cache.stats.errors, 1);
    assert.equal(engine.calls, 2);

    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, '');
    const unusable = new CachedTtsEngine(new EspeakTtsEngine(), { dir: join(blocked, 'sub') });
    const audio = await collect(unusable.synthesize('Проверка.'));
    assert.ok(audio.length === 1 && unusable.stats.errors === 1);
  });
});
