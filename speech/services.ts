import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { createAsrEngine } from './asr/index.js';
import { connectSpeechClient } from './grpc/client.js';
import { createTtsEngine } from './tts/index.js';
import type { SpeechServices } from './types.js';
import { createVadEngine } from './vad/index.js';

/**
 * The speech engines the voice bot uses: in this process, or, when config.speech.url (SPEECH_URL) is set,
 * the remote `otklik speech` service through the gRPC client. Callers cannot tell the two apart.
 * Never fails for a missing model: the engine's state() says so and its streams reject.
 */
export async function createSpeechServices(config: Config, log: Logger): Promise<SpeechServices> {
  if (config.speech.url) {
    return connectSpeechClient({ url: config.speech.url, log, timeoutMs: config.speech.requestTimeoutMs });
  }
  const vad = createVadEngine({ log });
  const asr = createAsrEngine(config.speech, log);
  const tts = createTtsEngine(config.speech, log, { dataDir: config.dataDir });
  return {
    vad,
    asr,
    tts,
    async close() {
      asr.close();
      await tts.close();
    },
  };
}
