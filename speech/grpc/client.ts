import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../core/log.js';
import type {
  AsrEngine,
  AsrResult,
  AsrStream,
  EngineState,
  SpeechServices,
  TtsChunk,
  TtsEngine,
  TtsOptions,
  TtsVoice,
  VadEngine,
  VadEvent,
  VadStream,
} from '../types.js';
import { fromServiceError } from './errors.js';
import {
  type EngineHealthMsg,
  type HealthResponseMsg,
  type RecognitionResultMsg,
  type RecognizeResponseMsg,
  type SynthesizeChunkMsg,
  speechServiceClient,
  type VoiceMsg,
} from './proto.js';
import { RecognizeCall } from './recognize-call.js';

/**
 * SpeechServices over gRPC: the voice bot uses these engines exactly like the in-process ones. Engine
 * states come from the service's Health, refreshed in the background; when the service is down the
 * states say so and calls fail with a retryable UNAVAILABLE, which the voice bot turns into a fallback.
 */

export interface SpeechClientOptions {
  /** host:port of `otklik speech`. */
  url: string;
  log: Logger;
  /** Per request (a chunk's answer, a whole synthesis). */
  timeoutMs: number;
  /** How often engine states are refreshed; 0 = only on connect. */
  healthIntervalMs?: number;
  /**
   * TLS: the CA (PEM) that signed the service's certificate, and this client's own certificate and key when
   * the service asks for one (mutual TLS). Unset: plaintext.
   */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

export interface SpeechClient extends SpeechServices {
  health(): Promise<HealthResponseMsg>;
}

type Unary = (
  req: object,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, res: never) => void,
) => void;
interface RawClient extends grpc.Client {
  Health: Unary;
  ListVoices: Unary;
  StreamingRecognize(): unknown;
  Synthesize(req: object, options: grpc.CallOptions): unknown;
}

function stateFrom(h: EngineHealthMsg | undefined, fallback: EngineState): EngineState {
  if (!h) return fallback;
  if (h.status === 'ready') return { status: 'ready' };
  if (h.status === 'model_missing') return { status: 'model_missing', message: h.message };
  return { status: 'failed', message: h.message || `engine ${h.name} failed` };
}

function toPcmBytes(audio: Int16Array): Buffer {
  return Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
}

function fromPcmBytes(bytes: Buffer): Int16Array {
  const out = new Int16Array(Math.floor(bytes.length / 2));
  Buffer.from(out.buffer).set(bytes.subarray(0, out.length * 2));
  return out;
}

function toEvents(msg: RecognizeResponseMsg): VadEvent[] {
  return msg.vadEvents.map((e) => ({
    type: e.type === 'SPEECH_START' ? 'speech_start' : 'speech_end',
    atMs: e.atMs,
  }));
}

function toResult(r: RecognitionResultMsg | null | undefined): AsrResult | null {
  return r ? { text: r.text, final: r.final, confidence: r.confidence, words: r.words } : null;
}

/** Chunks received but not yet read by the caller, with the end or the error that follows them. */
class ChunkInbox {
  private readonly queue: SynthesizeChunkMsg[] = [];
  private done = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  put(chunk: SynthesizeChunkMsg): void {
    this.queue.push(chunk);
    this.wake?.();
  }

  end(): void {
    this.done = true;
    this.wake?.();
  }

  fail(err: unknown): void {
    this.error ??= err;
    this.done = true;
    this.wake?.();
  }

  /** The next chunk, null at the end; throws the call's error once the chunks before it are read. */
  async next(): Promise<SynthesizeChunkMsg | null> {
    while (this.queue.length === 0 && !this.done) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    const chunk = this.queue.shift();
    if (chunk) return chunk;
    if (this.error) throw this.error;
    return null;
  }
}

export async function connectSpeechClient(opts: SpeechClientOptions): Promise<SpeechClient> {
  const Ctor = speechServiceClient();
  const credentials = opts.tls
    ? grpc.credentials.createSsl(opts.tls.ca, opts.tls.key ?? null, opts.tls.cert ?? null)
    : grpc.credentials.createInsecure();
  const client = new Ctor(opts.url, credentials, {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  }) as unknown as RawClient;
  const deadline = () => new Date(Date.now() + opts.timeoutMs);
  const unreachable: EngineState = {
    status: 'failed',
    message: `speech service at ${opts.url} is unreachable`,
  };
  let last: HealthResponseMsg | undefined;
  let lastError = false;

  function health(): Promise<HealthResponseMsg> {
    return new Promise((resolve, reject) => {
      client.Health({}, { deadline: deadline() }, (err: grpc.ServiceError | null, res: HealthResponseMsg) =>
        err ? reject(fromServiceError(err, 'Health')) : resolve(res),
      );
    });
  }

  async function refresh(): Promise<void> {
    try {
      last = await health();
      lastError = false;
    } catch (err) {
      if (!lastError)
        opts.log.warn({ err: (err as Error).message, url: opts.url }, 'speech service health check failed');
      lastError = true;
    }
  }

  const state = (key: 'vad' | 'asr' | 'tts') => (): EngineState =>
    lastError ? unreachable : stateFrom(last?.[key], unreachable);

  function openRecognize(): RecognizeCall {
    return new RecognizeCall(client.StreamingRecognize() as never, opts.timeoutMs);
  }

  const vad: VadEngine = {
    get name() {
      return last?.vad.name ?? 'remote-vad';
    },
    state: state('vad'),
    async createStream(vadOpts) {
      const call = openRecognize();
      await call.start({
        sampleRate: vadOpts.sampleRate,
        enableVad: true,
        vadThreshold: vadOpts.threshold ?? 0,
        minSpeechMs: vadOpts.minSpeechMs ?? 0,
        hangoverMs: vadOpts.hangoverMs ?? 0,
        preRollMs: vadOpts.preRollMs ?? 0,
      });
      let probability = 0;
      const stream: VadStream = {
        async push(audio) {
          const msg = await call.audio(toPcmBytes(audio));
          probability = msg.speechProbability;
          return toEvents(msg);
        },
        async flush() {
          const msg = await call.finish();
          call.end();
          return toEvents(msg);
        },
        get lastProbability() {
          return probability;
        },
        close() {
          call.cancel();
        },
      };
      return stream;
    },
  };

  const asr: AsrEngine = {
    get name() {
      return last?.asr.name ?? 'remote-asr';
    },
    state: state('asr'),
    async createStream(asrOpts) {
      const call = openRecognize();
      await call.start({
        sampleRate: asrOpts.sampleRate,
        enableAsr: true,
        hints: asrOpts.hints ?? [],
        grammar: asrOpts.grammar ?? [],
      });
      const stream: AsrStream = {
        async push(audio) {
          return toResult((await call.audio(toPcmBytes(audio))).result);
        },
        async finish() {
          const result = toResult((await call.finish()).result);
          return result ?? { text: '', final: true, confidence: 0, words: [] };
        },
        close() {
          call.cancel();
        },
      };
      return stream;
    },
  };

  const tts: TtsEngine = {
    get name() {
      return last?.tts.name ?? 'remote-tts';
    },
    state: state('tts'),
    voices() {
      return new Promise<TtsVoice[]>((resolve, reject) => {
        client.ListVoices(
          {},
          { deadline: deadline() },
          (err: grpc.ServiceError | null, res: { voices: VoiceMsg[] }) =>
            err ? reject(fromServiceError(err, 'ListVoices')) : resolve(res.voices),
        );
      });
    },
    async *synthesize(text: string, ttsOpts: TtsOptions = {}): AsyncGenerator<TtsChunk> {
      const call = client.Synthesize(
        { text, voice: ttsOpts.voice ?? '', sampleRate: ttsOpts.sampleRate ?? 0, rate: ttsOpts.rate ?? 0 },
        { deadline: deadline() },
      ) as grpc.ClientReadableStream<SynthesizeChunkMsg>;
      // The call is drained as fast as the server sends, whatever pace the caller plays at: the deadline
      // bounds synthesis, not playback, so a long answer read in real time is not cut off mid-sentence.
      const inbox = new ChunkInbox();
      call.on('data', (chunk: SynthesizeChunkMsg) => inbox.put(chunk));
      call.on('end', () => inbox.end());
      call.on('error', (err) => inbox.fail(err));
      const onAbort = () => call.cancel();
      ttsOpts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for (;;) {
          const chunk = await inbox.next();
          if (!chunk) return;
          yield {
            audio: { sampleRate: chunk.sampleRate, samples: fromPcmBytes(chunk.pcm16) },
            text: chunk.text,
            last: chunk.last,
          };
        }
      } catch (err) {
        if (ttsOpts.signal?.aborted) return;
        throw fromServiceError(err, 'Synthesize');
      } finally {
        ttsOpts.signal?.removeEventListener('abort', onAbort);
        // Covers a consumer that stops reading early: the server stops synthesizing.
        call.cancel();
      }
    },
  };

  await refresh();
  const timer =
    opts.healthIntervalMs === 0
      ? undefined
      : setInterval(() => void refresh(), opts.healthIntervalMs ?? 15_000).unref();

  return {
    vad,
    asr,
    tts,
    health,
    async close() {
      if (timer) clearInterval(timer);
      client.close();
    },
  };
}
