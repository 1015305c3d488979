import { basename, join } from 'node:path';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/log.js';
import type { TtsEngine } from '../types.js';
import { CachedTtsEngine, TtsMemoryCache } from './cache.js';
import { EspeakTtsEngine } from './espeak.js';
import { FallbackTtsEngine } from './fallback.js';
import { FestivalTtsEngine } from './festival.js';
import { PiperTtsEngine } from './piper.js';

export { CachedTtsEngine, type TtsCacheStats, TtsMemoryCache, ttsCacheKey } from './cache.js';
export { EspeakTtsEngine } from './espeak.js';
export { FallbackTtsEngine } from './fallback.js';
export { FestivalTtsEngine, prepareFestivalText } from './festival.js';
export { normalizeForSpeech } from './normalize.js';
export { cardinal, ordinal } from './numbers.js';
export { loadPiperConfig, type PiperVoiceConfig, phonemesToIds, phonemizeIpa } from './phonemize.js';
export { PiperTtsEngine } from './piper.js';
export { splitSentences } from './sentences.js';
export { speechPieces, streamSentences, synthesizeAll } from './streaming.js';

export type SpeechConfig = Config['speech'];

/** What createTtsEngine returns: a TtsEngine that can also stop the helper processes it started. */
export interface ManagedTtsEngine extends TtsEngine {
  /** The memory tier of its cache (null when config.speech.memoryCacheMb is 0). */
  readonly memoryCache: TtsMemoryCache | null;
  close(): Promise<void>;
}

/** The process's memory tier of the TTS cache, config.speech.memoryCacheMb (SPEECH_MEMORY_CACHE_MB) big. */
export function createTtsMemoryCache(speech: SpeechConfig): TtsMemoryCache | null {
  return speech.memoryCacheMb > 0 ? new TtsMemoryCache(Math.round(speech.memoryCacheMb * 1024 * 1024)) : null;
}

/**
 * The TTS engine named by config.speech.tts (espeak | festival | piper), with the TTS cache in memory
 * (config.speech.memoryCacheMb) and on disk (config.speech.cacheDir, or <dataDir>/tts-cache), and
 * espeak-ng as the fallback: if the chosen engine is not installed, its voice is missing, or it fails on a
 * request, espeak-ng speaks and state().message and the log say so.
 */
export function createTtsEngine(
  speech: SpeechConfig,
  log?: Logger,
  opts: { dataDir?: string } = {},
): ManagedTtsEngine {
  const cacheDir = speech.cacheDir ?? join(opts.dataDir ?? './data', 'tts-cache');
  const timeoutMs = speech.requestTimeoutMs;
  // One memory tier for both engines: the key names the engine, so the fallback's audio never stands in
  // for the primary's once the primary is back.
  const memory = createTtsMemoryCache(speech);
  const cached = (engine: TtsEngine, settings: Record<string, unknown>) =>
    new CachedTtsEngine(engine, { dir: cacheDir, settings, log, ...(memory ? { memory } : {}) });
  const closers: (() => Promise<void>)[] = [];

  const espeakVoice = speech.tts === 'espeak' ? speech.voice : undefined;
  const espeak = new EspeakTtsEngine({ voice: espeakVoice, timeoutMs });
  let primary: TtsEngine;
  let settings: Record<string, unknown>;
  switch (speech.tts) {
    case 'festival': {
      const festival = new FestivalTtsEngine({ voice: speech.voice, timeoutMs });
      closers.push(() => festival.close());
      if (festival.state().status === 'ready') {
        // Load the voice in the background: the first caller should not wait for Festival to start.
        festival
          .warm()
          .catch((err) => log?.warn({ err }, 'Festival warm-up failed; it is retried on the first request'));
      }
      primary = festival;
      settings = { voice: speech.voice ?? null };
      break;
    }
    case 'piper':
      primary = new PiperTtsEngine({ modelPath: speech.piperVoicePath, log });
      settings = { model: speech.piperVoicePath ? basename(speech.piperVoicePath) : null };
      break;
    default:
      primary = espeak;
      settings = { voice: espeakVoice ?? null };
  }

  let engine: TtsEngine;
  if (primary === espeak) {
    engine = cached(espeak, settings);
  } else {
    engine = new FallbackTtsEngine(cached(primary, settings), cached(espeak, { voice: null }), log);
  }
  const state = engine.state();
  if (state.status !== 'ready') log?.error({ engine: speech.tts }, `TTS unavailable: ${state.message}`);
  else if (state.message) log?.warn({ engine: speech.tts }, state.message);
  else log?.info({ engine: engine.name, cacheDir }, 'TTS engine ready');

  return Object.assign(engine, {
    memoryCache: memory,
    async close() {
      await Promise.all(closers.map((c) => c()));
    },
  });
}
