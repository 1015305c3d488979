import { OtklikError } from '../../core/errors.js';
import { resample } from '../../media/audio/resample.js';
import type { PcmAudio, TtsChunk, TtsOptions } from '../types.js';
import { normalizeForSpeech } from './normalize.js';
import { splitSentences } from './sentences.js';

/** Synthesizes one sentence (already normalized for speech) at the engine's own sample rate. */
export type SentenceSynthesizer = (sentence: string, signal: AbortSignal) => Promise<PcmAudio>;

export interface StreamOptions extends TtsOptions {
  /** Skip normalizeForSpeech (the text is already what should be said). */
  raw?: boolean;
  maxSentenceChars?: number;
}

/**
 * The shared streaming loop of every engine: normalize, split into sentences, synthesize them in order
 * with one sentence of look-ahead (the next one is being synthesized while the current one plays), and
 * resample each to the requested rate. Leaving the loop early (barge-in) aborts the look-ahead.
 */
export async function* streamSentences(
  text: string,
  opts: StreamOptions,
  synthesize: SentenceSynthesizer,
): AsyncGenerator<TtsChunk> {
  const sentences = speechPieces(text, opts);
  if (sentences.length === 0) return;
  if (opts.signal?.aborted) throw new OtklikError('CANCELLED', 'speech synthesis cancelled');
  const local = new AbortController();
  const onAbort = () => local.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const start = (s: string) => {
    const p = synthesize(s, local.signal);
    // A look-ahead that fails is reported when its turn comes, not as an unhandled rejection.
    p.catch(() => undefined);
    return p;
  };
  try {
    let next: Promise<PcmAudio> | null = start(sentences[0]!);
    for (let i = 0; i < sentences.length; i++) {
      const current: Promise<PcmAudio> = next!;
      next = i + 1 < sentences.length ? start(sentences[i + 1]!) : null;
      const audio = await current;
      if (opts.signal?.aborted) throw new OtklikError('CANCELLED', 'speech synthesis cancelled');
      const rate = opts.sampleRate ?? audio.sampleRate;
      const out: PcmAudio =
        rate === audio.sampleRate
          ? audio
          : { sampleRate: rate, samples: resample(audio.samples, audio.sampleRate, rate) };
      yield { audio: out, text: sentences[i]!, last: i === sentences.length - 1 };
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    local.abort();
  }
}

/** The pieces (normalized sentences) text is spoken in, in order: one TtsChunk each. */
export function speechPieces(
  text: string,
  opts: Pick<StreamOptions, 'raw' | 'maxSentenceChars'> = {},
): string[] {
  // Split the written text first: normalized text loses the capital letters that mark sentence starts.
  const maxChars = opts.maxSentenceChars ?? 200;
  return splitSentences(text, { maxChars: Number.POSITIVE_INFINITY }).flatMap((s) =>
    splitSentences(opts.raw ? s : normalizeForSpeech(s), { maxChars }),
  );
}

/** Collects a whole utterance (for files, tests and the cache). */
export async function synthesizeAll(chunks: AsyncIterable<TtsChunk>): Promise<PcmAudio> {
  const parts: Int16Array[] = [];
  let sampleRate = 0;
  for await (const chunk of chunks) {
    sampleRate = chunk.audio.sampleRate;
    parts.push(chunk.audio.samples);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const samples = new Int16Array(total);
  let offset = 0;
  for (const p of parts) {
    samples.set(p, offset);
    offset += p.length;
  }
  return { sampleRate: sampleRate || 8000, samples };
}
