import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { OtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { AsrResult, AsrStream, EngineState, SpeechServices, VadEvent, VadStream } from '../types.js';
import { toServiceError } from './errors.js';
import type {
  EngineHealthMsg,
  HealthResponseMsg,
  RecognitionResultMsg,
  RecognizeConfigMsg,
  RecognizeRequestMsg,
  RecognizeResponseMsg,
  SynthesizeChunkMsg,
  SynthesizeRequestMsg,
} from './proto.js';
import { speechServiceClient } from './proto.js';

/**
 * The gRPC face of SpeechServices (`otklik speech`). Each StreamingRecognize call owns one VAD stream and
 * one ASR stream; whatever ends the call (finish, half-close, client cancel, disconnect, deadline) frees
 * them exactly once. Synthesize stops at the next sentence when the client cancels.
 */

export interface SpeechServerOptions {
  services: SpeechServices;
  /** host:port; port 0 picks a free one. */
  listen: string;
  log: Logger;
  /**
   * TLS (PEM certificate chain and key); with clientCa every client must show a certificate it signed
   * (mutual TLS). Unset: plaintext, for loopback or a closed network.
   */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
}

export interface SpeechServer {
  port: number;
  address: string;
  /** Live calls, also reported by Health. */
  stats(): { recognizeStreams: number; synthesizeCalls: number; synthesesCancelled: number };
  close(graceMs?: number): Promise<void>;
}

const MAX_TEXT_CHARS = 5000;
/**
 * Sample rates a request may ask for. Telephony audio is 8 kHz and wideband up to 48 kHz; anything else is a
 * mistake, and resampling to an absurd rate (1e8 Hz) would take seconds of CPU and a gigabyte per request.
 */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;

/** A request's sample rate in range, else VALIDATION_FAILED (INVALID_ARGUMENT on the wire). */
function checkSampleRate(what: string, rate: number): void {
  if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
    throw new OtklikError(
      'VALIDATION_FAILED',
      `${what}: sample_rate must be ${MIN_SAMPLE_RATE}-${MAX_SAMPLE_RATE} Hz, got ${rate}`,
    );
  }
}
const MAX_QUEUED_MESSAGES = 64;
const RESUME_BELOW = 16;

function engineHealth(name: string, state: EngineState): EngineHealthMsg {
  return { name, status: state.status, message: state.status === 'ready' ? '' : state.message };
}

function toResultMsg(r: AsrResult): RecognitionResultMsg {
  return { text: r.text, final: r.final, confidence: r.confidence, words: r.words };
}

function toVadMsg(events: VadEvent[]): RecognizeResponseMsg['vadEvents'] {
  return events.map((e) => ({
    type: e.type === 'speech_start' ? 'SPEECH_START' : 'SPEECH_END',
    atMs: Math.round(e.atMs),
  }));
}

export function pcmFromBytes(bytes: Buffer): Int16Array {
  if (bytes.length % 2 !== 0)
    throw new OtklikError('AUDIO_MALFORMED', `PCM16 audio must have an even byte count, got ${bytes.length}`);
  // Copy into an aligned buffer: gRPC hands out slices at arbitrary offsets.
  const out = new Int16Array(bytes.length / 2);
  Buffer.from(out.buffer).set(bytes);
  return out;
}

function pcmToBytes(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

export async function startSpeechServer(opts: SpeechServerOptions): Promise<SpeechServer> {
  const { services, log } = opts;
  let recognizeStreams = 0;
  let synthesizeCalls = 0;
  let synthesesCancelled = 0;

  function streamingRecognize(
    call: grpc.ServerDuplexStream<RecognizeRequestMsg, RecognizeResponseMsg>,
  ): void {
    recognizeStreams++;
    let vad: VadStream | undefined;
    let asr: AsrStream | undefined;
    let config: RecognizeConfigMsg | undefined;
    let done = false;
    let chain: Promise<void> = Promise.resolve();

    const release = () => {
      if (done) return;
      done = true;
      recognizeStreams--;
      asr?.close();
      vad?.close?.();
    };
    const fail = (err: unknown) => {
      if (done) return;
      const status = toServiceError(err);
      log.warn({ err: status.details, code: status.code }, 'StreamingRecognize failed');
      release();
      call.emit('error', status);
    };
    const reply = (msg: Partial<RecognizeResponseMsg>) => {
      if (!done && !call.cancelled)
        call.write({ seq: 0, vadEvents: [], speechProbability: 0, finished: false, ...msg });
    };

    async function configure(c: RecognizeConfigMsg): Promise<void> {
      if (config)
        throw new OtklikError('VALIDATION_FAILED', 'config may be sent only once, as the first message');
      if (!c.enableVad && !c.enableAsr)
        throw new OtklikError('VALIDATION_FAILED', 'enable_vad or enable_asr must be set');
      checkSampleRate('StreamingRecognize', c.sampleRate);
      config = c;
      if (c.enableVad) {
        if (c.sampleRate !== 8000 && c.sampleRate !== 16000) {
          throw new OtklikError('VALIDATION_FAILED', `VAD needs 8000 or 16000 Hz audio, got ${c.sampleRate}`);
        }
        vad = await services.vad.createStream({
          sampleRate: c.sampleRate,
          ...(c.vadThreshold > 0 ? { threshold: c.vadThreshold } : {}),
          ...(c.minSpeechMs > 0 ? { minSpeechMs: c.minSpeechMs } : {}),
          ...(c.hangoverMs > 0 ? { hangoverMs: c.hangoverMs } : {}),
          ...(c.preRollMs > 0 ? { preRollMs: c.preRollMs } : {}),
        });
      }
      if (c.enableAsr) {
        const stream = await services.asr.createStream({
          sampleRate: c.sampleRate,
          hints: c.hints,
          ...(c.grammar?.length ? { grammar: c.grammar } : {}),
        });
        // The client may have gone while the model loaded.
        if (done) stream.close();
        else asr = stream;
      }
      reply({ seq: 0 });
    }

    async function handle(msg: RecognizeRequestMsg): Promise<void> {
      if (done) return;
      if (msg.config) return configure(msg.config);
      if (!config) throw new OtklikError('VALIDATION_FAILED', 'the first message must be a config');
      if (msg.audio) {
        const samples = pcmFromBytes(msg.audio.pcm16);
        const [events, result] = await Promise.all([
          vad ? vad.push(samples) : Promise.resolve([]),
          asr ? asr.push(samples) : Promise.resolve(null),
        ]);
        reply({
          seq: msg.audio.seq,
          vadEvents: toVadMsg(events),
          result: result ? toResultMsg(result) : null,
          speechProbability: vad?.lastProbability ?? 0,
        });
        return;
      }
      if (msg.finish) {
        const [events, result] = await Promise.all([
          vad ? vad.flush() : Promise.resolve([]),
          asr ? asr.finish() : Promise.resolve(null),
        ]);
        reply({
          seq: msg.finish.seq,
          vadEvents: toVadMsg(events),
          result: result ? toResultMsg(result) : null,
          finished: true,
        });
        return;
      }
      throw new OtklikError('VALIDATION_FAILED', 'empty StreamingRecognize request');
    }

    // A client that streams faster than the engines decode is paused instead of queueing without bound.
    let queued = 0;
    call.on('data', (msg: RecognizeRequestMsg) => {
      if (++queued >= MAX_QUEUED_MESSAGES) call.pause();
      chain = chain
        .then(() => handle(msg))
        .catch(fail)
        .finally(() => {
          if (--queued === RESUME_BELOW && !done) call.resume();
        });
    });
    call.on('end', () => {
      chain = chain.then(() => {
        if (done) return;
        release();
        call.end();
      });
    });
    // Client cancel, disconnect and deadline all arrive here.
    call.on('cancelled', release);
    call.on('error', release);
  }

  async function synthesize(
    call: grpc.ServerWritableStream<SynthesizeRequestMsg, SynthesizeChunkMsg>,
  ): Promise<void> {
    synthesizeCalls++;
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    try {
      const { text, voice, sampleRate, rate } = call.request;
      if (!text.trim()) throw new OtklikError('VALIDATION_FAILED', 'text to synthesize is empty');
      // 0 is proto3's "not set": the voice's own rate.
      if (sampleRate) checkSampleRate('Synthesize', sampleRate);
      if (text.length > MAX_TEXT_CHARS) {
        throw new OtklikError(
          'VALIDATION_FAILED',
          `text is ${text.length} characters; at most ${MAX_TEXT_CHARS} per call`,
        );
      }
      const chunks = services.tts.synthesize(text, {
        ...(voice ? { voice } : {}),
        ...(sampleRate ? { sampleRate } : {}),
        ...(rate ? { rate } : {}),
        signal: abort.signal,
      });
      for await (const chunk of chunks) {
        if (abort.signal.aborted) break;
        const msg = {
          pcm16: pcmToBytes(chunk.audio.samples),
          sampleRate: chunk.audio.sampleRate,
          text: chunk.text,
          last: chunk.last,
        };
        if (!call.write(msg)) await Promise.race([once(call, 'drain'), once(abort.signal, 'abort')]);
      }
      if (abort.signal.aborted) synthesesCancelled++;
      else call.end();
    } catch (err) {
      if (abort.signal.aborted) synthesesCancelled++;
      else {
        const status = toServiceError(err);
        log.warn({ err: status.details, code: status.code }, 'Synthesize failed');
        call.emit('error', status);
      }
    } finally {
      synthesizeCalls--;
    }
  }

  const server = new grpc.Server({
    // Notice dead clients whose connection never closed cleanly, so their recognizers are freed.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  server.addService(speechServiceClient().service, {
    StreamingRecognize: streamingRecognize,
    Synthesize: (call: grpc.ServerWritableStream<SynthesizeRequestMsg, SynthesizeChunkMsg>) =>
      void synthesize(call),
    ListVoices: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      services.tts.voices().then(
        (voices) => callback(null, { voices }),
        (err) => callback(toServiceError(err)),
      );
    },
    Health: (_call: unknown, callback: grpc.sendUnaryData<HealthResponseMsg>) => {
      callback(null, {
        vad: engineHealth(services.vad.name, services.vad.state()),
        asr: engineHealth(services.asr.name, services.asr.state()),
        tts: engineHealth(services.tts.name, services.tts.state()),
        activeRecognizeStreams: recognizeStreams,
        activeSynthesizeCalls: synthesizeCalls,
      });
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    const credentials = opts.tls
      ? grpc.ServerCredentials.createSsl(
          opts.tls.clientCa ?? null,
          [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }],
          opts.tls.clientCa !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    server.bindAsync(opts.listen, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  }).catch((err: Error) => {
    throw new OtklikError('UNAVAILABLE', `cannot listen on ${opts.listen}: ${err.message}`, { cause: err });
  });
  const host = opts.listen.slice(0, opts.listen.lastIndexOf(':')) || '127.0.0.1';
  log.info(
    { address: `${host}:${port}`, tls: opts.tls !== undefined, mutualTls: opts.tls?.clientCa !== undefined },
    'speech gRPC service listening',
  );

  return {
    port,
    address: `${host}:${port}`,
    stats: () => ({ recognizeStreams, synthesizeCalls, synthesesCancelled }),
    close(graceMs = 5000) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
