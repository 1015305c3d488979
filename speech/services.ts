import type { Config } from '../core/config.js';
import { OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { createAsrEngine } from './asr/index.js';
import { connectSpeechClient, type SpeechClientOptions } from './grpc/client.js';
import { CachedTtsEngine, type TtsMemoryCache } from './tts/cache.js';
import { createTtsEngine, createTtsMemoryCache } from './tts/index.js';
import type { SpeechServices } from './types.js';
import { createVadEngine } from './vad/index.js';

/** The speech services as assembled for a process, with the memory tier of its TTS cache. */
export interface AssembledSpeechServices extends SpeechServices {
  /** Synthesized audio kept in memory (config.speech.memoryCacheMb); null when it is off. */
  ttsCache: TtsMemoryCache | null;
}

/**
 * The speech engines the voice bot uses: in this process, or, when config.speech.url (SPEECH_URL) is set,
 * the remote `otklik speech` service through the gRPC client. Callers cannot tell the two apart.
 * Either way synthesized speech goes through the TTS cache's memory tier, so a repeated prompt or answer
 * starts playing at once (the remote service keeps the disk tier on its side).
 * Never fails for a missing model: the engine's state() says so and its streams reject.
 */
export interface SpeechServicesOptions {
  /** TLS towards the remote service: the CA file's and client pair's contents (cli/tls.ts reads them). */
  clientTls?: SpeechClientOptions['tls'];
}

export async function createSpeechServices(
  config: Config,
  log: Logger,
  opts: SpeechServicesOptions = {},
): Promise<AssembledSpeechServices> {
  if (config.speech.url) {
    // Never plaintext by mistake: TLS configured means the composition root passes what it read.
    if (config.tls.speechCaFile && !opts.clientTls)
      throw new OtklikError('CONFIG_INVALID', 'SPEECH_TLS_CA_FILE is set but its contents were not passed');
    const client = await connectSpeechClient({
      url: config.speech.url,
      log,
      timeoutMs: config.speech.requestTimeoutMs,
      ...(opts.clientTls ? { tls: opts.clientTls } : {}),
    });
    const ttsCache = createTtsMemoryCache(config.speech);
    return {
      vad: client.vad,
      asr: client.asr,
      tts: ttsCache ? new CachedTtsEngine(client.tts, { memory: ttsCache, log }) : client.tts,
      ttsCache,
      close: () => client.close(),
    };
  }
  const vad = createVadEngine({ log });
  const asr = createAsrEngine(config.speech, log);
  const tts = createTtsEngine(config.speech, log, { dataDir: config.dataDir });
  return {
    vad,
    asr,
    tts,
    ttsCache: tts.memoryCache,
    async close() {
      asr.close();
      await tts.close();
    },
  };
}
