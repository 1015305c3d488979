import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import type { EngineState, TtsChunk, TtsEngine, TtsOptions, TtsVoice } from '../types.js';

/**
 * A disk cache around any TTS engine: approved answers and prompts are said again and again, so each
 * (text, voice, engine, settings) is synthesized once and afterwards read from disk. Entries are written
 * atomically (temporary file, then rename) only after the engine finished the whole text, so an
 * interrupted synthesis (barge-in) never leaves half an answer in the cache. A cache that cannot be read
 * or written only costs speed: the engine is asked instead.
 */

const MAGIC = Buffer.from('OTKLIK-TTS1\n', 'latin1');
const FORMAT_VERSION = 1;

export interface TtsCacheOptions {
  dir: string;
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

export class CachedTtsEngine implements TtsEngine {
  readonly inner: TtsEngine;
  readonly dir: string;
  readonly stats: TtsCacheStats = { hits: 0, misses: 0, writes: 0, errors: 0 };
  private readonly settings: Record<string, unknown>;
  private readonly log: Logger | undefined;

  constructor(inner: TtsEngine, opts: TtsCacheOptions) {
    this.inner = inner;
    this.dir = opts.dir;
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

  /** Where the entry for this text and these options lives. */
  pathFor(text: string, opts: TtsOptions = {}): string {
    const key = ttsCacheKey(this.inner.name, text, opts, this.settings);
    return join(this.dir, key.slice(0, 2), `${key}.tts`);
  }

  async *synthesize(text: string, opts: TtsOptions = {}): AsyncIterable<TtsChunk> {
    const path = this.pathFor(text, opts);
    const cached = await this.read(path);
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
    if (chunks.length > 0 && !opts.signal?.aborted) await this.write(path, chunks);
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
