import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import type { EngineState, TtsChunk, TtsEngine, TtsOptions, TtsVoice } from '../types.js';

/**
 * The one cache of synthesized speech, around any TTS engine: approved answers and prompts are said again
 * and again, so each (text, voice, engine, settings) is synthesized once. Two tiers, either optional:
 * - memory (TtsMemoryCache, one per process, shared by the engines that speak): a repeated answer's first
 *   frame goes out without waiting for the synthesizer or the disk;
 * - disk (`dir`): survives restarts and is shared by processes on one host.
 * Entries are stored only after the engine finished the whole text, so an interrupted synthesis (barge-in)
 * never leaves half an answer in the cache. A disk cache that cannot be read or written only costs speed:
 * the engine is asked instead.
 */

const MAGIC = Buffer.from('OTKLIK-TTS1\n', 'latin1');
const FORMAT_VERSION = 1;

export interface TtsCacheOptions {
  /** Disk tier; unset: memory only (e.g. in front of the remote speech service, which has its own disk). */
  dir?: string;
  /** Memory tier, shared by every cached engine of the process. */
  memory?: TtsMemoryCache;
  /** Engine settings that change the audio (configured voice, model file...), part of the key. */
  settings?: Record<string, unknown>;
  log?: Logger;
}

export interface TtsCacheStats {
  hits: number;
  misses: number;
  writes: number;
  errors: number;
}

interface EntryHeader {
  sampleRate: number;
  chunks: { text: string; samples: number }[];
}

export function ttsCacheKey(
  engine: string,
  text: string,
  opts: TtsOptions,
  settings: Record<string, unknown> = {},
): string {
  const material = JSON.stringify({
    v: FORMAT_VERSION,
    engine,
    text,
    voice: opts.voice ?? null,
    sampleRate: opts.sampleRate ?? null,
    rate: opts.rate ?? 1,
    settings,
  });
  return createHash('sha256').update(material).digest('hex');
}

function encodeEntry(chunks: TtsChunk[]): Buffer {
  const header: EntryHeader = {
    sampleRate: chunks[0]?.audio.sampleRate ?? 8000,
    chunks: chunks.map((c) => ({ text: c.text, samples: c.audio.samples.length })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const pcm = chunks.map((c) =>
    Buffer.from(c.audio.samples.buffer, c.audio.samples.byteOffset, c.audio.samples.byteLength),
  );
  return Buffer.concat([MAGIC, length, json, ...pcm]);
}

function decodeEntry(buf: Buffer): TtsChunk[] | null {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + jsonLength > buf.length) return null;
  const header = JSON.parse(buf.toString('utf8', start, start + jsonLength)) as EntryHeader;
  let offset = start + jsonLength;
  const chunks: TtsChunk[] = [];
  for (const [i, c] of header.chunks.entries()) {
    const bytes = c.samples * 2;
    if (offset + bytes > buf.length) return null;
    const samples = new Int16Array(c.samples);
    new Uint8Array(samples.buffer).set(buf.subarray(offset, offset + bytes));
    offset += bytes;
    chunks.push({
      audio: { sampleRate: header.sampleRate, samples },
      text: c.text,
      last: i === header.chunks.length - 1,
    });
  }
  return offset === buf.length ? chunks : null;
}

/**
 * Synthesized utterances kept in memory by cache key, least recently used first out once `maxBytes` of
 * audio is held (PCM16: two bytes a sample). Counts its hits and misses for health and tests.
 */
export class TtsMemoryCache {
  hits = 0;
  misses = 0;
  private readonly entries = new Map<string, TtsChunk[]>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string): TtsChunk[] | undefined {
    const found = this.entries.get(key);
    if (!found) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-inserted: a Map iterates in insertion order, so the first entry is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, found);
    return found;
  }

  set(key: string, chunks: TtsChunk[]): void {
    const size = bytesOf(chunks);
    if (size > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.held -= bytesOf(old);
      this.entries.delete(key);
    }
    this.entries.set(key, chunks);
    this.held += size;
    for (const [oldest, value] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= bytesOf(value);
    }
  }

  /** Utterances held. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes of audio held. */
  get bytes(): number {
    return this.held;
  }
}

function bytesOf(chunks: TtsChunk[]): number {
  return chunks.reduce((n, c) => n + c.audio.samples.byteLength, 0);
}

export class CachedTtsEngine implements TtsEngine {
  readonly inner: TtsEngine;
  readonly dir: string | undefined;
  readonly memory: TtsMemoryCache | undefined;
  readonly stats: TtsCacheStats = { hits: 0, misses: 0, writes: 0, errors: 0 };
  private readonly settings: Record<string, unknown>;
  private readonly log: Logger | undefined;

  constructor(inner: TtsEngine, opts: TtsCacheOptions) {
    this.inner = inner;
    this.dir = opts.dir;
    this.memory = opts.memory;
    this.settings = opts.settings ?? {};
    this.log = opts.log;
  }

  get name(): string {
    return this.inner.name;
  }

  state(): EngineState {
    return this.inner.state();
  }

  voices(): Promise<TtsVoice[]> {
    return this.inner.voices();
  }

  /** Where the entry for this text and these options lives on disk (the disk tier's directory, or '.'). */
  pathFor(text: string, opts: TtsOptions = {}): string {
    return this.diskPath(this.keyFor(text, opts), this.dir ?? '.');
  }

  async *synthesize(text: string, opts: TtsOptions = {}): AsyncIterable<TtsChunk> {
    const key = this.keyFor(text, opts);
    const path = this.dir ? this.diskPath(key, this.dir) : null;
    let cached = this.memory?.get(key);
    if (!cached && path) {
      cached = (await this.read(path)) ?? undefined;
      if (cached) this.memory?.set(key, cached);
    }
    if (cached) {
      this.stats.hits++;
      yield* cached;
      return;
    }
    this.stats.misses++;
    const chunks: TtsChunk[] = [];
    for await (const chunk of this.inner.synthesize(text, opts)) {
      chunks.push(chunk);
      yield chunk;
    }
    // A consumer that stops early (barge-in) never gets here: the generator is closed at its yield.
    if (chunks.length === 0 || opts.signal?.aborted) return;
    this.memory?.set(key, chunks);
    if (path) await this.write(path, chunks);
  }

  private keyFor(text: string, opts: TtsOptions): string {
    return ttsCacheKey(this.inner.name, text, opts, this.settings);
  }

  private diskPath(key: string, dir: string): string {
    return join(dir, key.slice(0, 2), `${key}.tts`);
  }

  private async read(path: string): Promise<TtsChunk[] | null> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch {
      return null;
    }
    try {
      const chunks = decodeEntry(buf);
      if (chunks) return chunks;
    } catch {
      // fall through: a damaged entry is removed and synthesized again
    }
    this.stats.errors++;
    this.log?.warn({ path }, 'TTS cache entry is damaged; synthesizing again');
    await unlink(path).catch(() => undefined);
    return null;
  }

  private async write(path: string, chunks: TtsChunk[]): Promise<void> {
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(tmp, encodeEntry(chunks));
      await rename(tmp, path);
      this.stats.writes++;
    } catch (err) {
      this.stats.errors++;
      this.log?.warn({ err, dir: this.dir }, 'TTS cache cannot be written; audio is synthesized each time');
      await unlink(tmp).catch(() => undefined);
    }
  }
}
