/**
 * The speech engines with their latencies measured for the metrics (core/metrics.ts): each VAD push, each
 * ASR push and the final result after the end of speech, and each synthesis to its first chunk of audio.
 * The engines are the same underneath, in process or over gRPC; this only times the calls.
 */
import type { Metrics } from '../core/metrics.js';
import type {
  AsrEngine,
  AsrOptions,
  AsrStream,
  SpeechServices,
  TtsChunk,
  TtsEngine,
  TtsOptions,
  VadEngine,
  VadOptions,
  VadStream,
} from './types.js';

type Timings = Pick<Metrics, 'vadLatency' | 'asrLatency' | 'ttsLatency'>;

async function timed<T>(work: Promise<T>, observe: (seconds: number) => void): Promise<T> {
  const start = performance.now();
  const result = await work;
  observe((performance.now() - start) / 1000);
  return result;
}

function timedVad(vad: VadEngine, m: Timings): VadEngine {
  return {
    get name() {
      return vad.name;
    },
    state: () => vad.state(),
    async createStream(opts: VadOptions): Promise<VadStream> {
      const stream = await vad.createStream(opts);
      return {
        push: (audio) => timed(stream.push(audio), (s) => m.vadLatency.observe(s)),
        flush: () => stream.flush(),
        get lastProbability() {
          return stream.lastProbability;
        },
        ...(stream.close ? { close: () => stream.close?.() } : {}),
      };
    },
  };
}

function timedAsr(asr: AsrEngine, m: Timings): AsrEngine {
  return {
    get name() {
      return asr.name;
    },
    state: () => asr.state(),
    async createStream(opts: AsrOptions): Promise<AsrStream> {
      const stream = await asr.createStream(opts);
      return {
        push: (audio) => timed(stream.push(audio), (s) => m.asrLatency.observe({ stage: 'push' }, s)),
        finish: () => timed(stream.finish(), (s) => m.asrLatency.observe({ stage: 'final' }, s)),
        close: () => stream.close(),
      };
    },
  };
}

function timedTts(tts: TtsEngine, m: Timings): TtsEngine {
  return {
    get name() {
      return tts.name;
    },
    state: () => tts.state(),
    voices: () => tts.voices(),
    async *synthesize(text: string, opts?: TtsOptions): AsyncIterable<TtsChunk> {
      const start = performance.now();
      let first = true;
      for await (const chunk of tts.synthesize(text, opts)) {
        if (first) {
          m.ttsLatency.observe((performance.now() - start) / 1000);
          first = false;
        }
        yield chunk;
      }
    },
  };
}

/** `services` with the same engines, timed; everything else (the cache, close) is the original's. */
export function timeSpeech<T extends SpeechServices>(services: T, metrics: Timings): T {
  return {
    ...services,
    vad: timedVad(services.vad, metrics),
    asr: timedAsr(services.asr, metrics),
    tts: timedTts(services.tts, metrics),
  };
}
