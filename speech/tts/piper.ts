import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { OtklikError, toOtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { clampToInt16 } from '../../media/audio/pcm.js';
import type { EngineState, PcmAudio, TtsChunk, TtsEngine, TtsOptions, TtsVoice } from '../types.js';
import { loadPiperConfig, type PiperVoiceConfig, phonemesToIds, phonemizeIpa } from './phonemize.js';
import { streamSentences } from './streaming.js';

/**
 * Piper (VITS) voices on onnxruntime-node: the most natural of the three engines, and fully on-premises.
 * The voice is a `<name>.onnx` file (not shipped; set PIPER_VOICE_PATH) with its `<name>.onnx.json` config
 * beside it or in the repository's models/piper-ru/.
 */

export interface PiperOptions {
  modelPath?: string;
  configPath?: string;
  log?: Logger;
}

const REPO_CONFIG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../models/piper-ru');

export function piperConfigPathFor(modelPath: string): string {
  const beside = `${modelPath}.json`;
  if (existsSync(beside)) return beside;
  return join(REPO_CONFIG_DIR, `${basename(modelPath)}.json`);
}

interface Loaded {
  ort: typeof import('onnxruntime-node');
  session: InferenceSession;
  config: PiperVoiceConfig;
}

export class PiperTtsEngine implements TtsEngine {
  readonly name = 'piper';
  readonly modelPath: string | undefined;
  private readonly configPath: string | undefined;
  private readonly log: Logger | undefined;
  private loading: Promise<Loaded> | null = null;
  private failure: string | null = null;

  constructor(opts: PiperOptions = {}) {
    this.modelPath = opts.modelPath;
    this.configPath = opts.configPath ?? (opts.modelPath ? piperConfigPathFor(opts.modelPath) : undefined);
    this.log = opts.log;
  }

  state(): EngineState {
    if (!this.modelPath)
      return {
        status: 'model_missing',
        message: 'no Piper voice configured (set PIPER_VOICE_PATH to a .onnx voice)',
      };
    if (!existsSync(this.modelPath))
      return { status: 'model_missing', message: `Piper voice ${this.modelPath} is missing` };
    if (!this.configPath || !existsSync(this.configPath)) {
      return {
        status: 'model_missing',
        message: `Piper voice config ${this.configPath ?? `${this.modelPath}.json`} is missing`,
      };
    }
    if (this.failure) return { status: 'failed', message: this.failure };
    return { status: 'ready' };
  }

  async voices(): Promise<TtsVoice[]> {
    if (!this.modelPath) return [];
    const rate =
      this.configPath && existsSync(this.configPath)
        ? (await loadPiperConfig(this.configPath)).audio.sample_rate
        : 22050;
    return [
      {
        id: basename(this.modelPath, '.onnx'),
        engine: this.name,
        language: 'ru',
        sampleRate: rate,
        available: this.state().status === 'ready',
      },
    ];
  }

  synthesize(text: string, opts: TtsOptions = {}): AsyncIterable<TtsChunk> {
    return streamSentences(text, opts, (sentence, signal) => this.sentence(sentence, opts, signal));
  }

  private load(): Promise<Loaded> {
    const state = this.state();
    if (state.status === 'model_missing')
      return Promise.reject(new OtklikError('MODEL_MISSING', state.message));
    this.loading ??= (async () => {
      const config = await loadPiperConfig(this.configPath!);
      const mod = await import('onnxruntime-node');
      const ort = (mod.default ?? mod) as typeof import('onnxruntime-node');
      const session = await ort.InferenceSession.create(this.modelPath!, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      });
      for (const name of ['input', 'input_lengths', 'scales']) {
        if (!session.inputNames.includes(name))
          throw new Error(`not a Piper voice: inputs are ${session.inputNames.join(', ')}`);
      }
      this.log?.info({ voice: this.modelPath }, 'Piper voice loaded');
      return { ort, session, config };
    })().catch((err) => {
      this.failure = `Piper voice ${this.modelPath} cannot be loaded: ${(err as Error).message}`;
      this.loading = null;
      throw new OtklikError('MODEL_BROKEN', this.failure, { cause: err });
    });
    return this.loading;
  }

  private async sentence(sentence: string, opts: TtsOptions, signal: AbortSignal): Promise<PcmAudio> {
    const { ort, session, config } = await this.load();
    const phonemes = await phonemizeIpa(sentence, { voice: config.espeak.voice, signal });
    const { ids, unknown } = phonemesToIds(phonemes, config.phoneme_id_map);
    if (unknown.length)
      this.log?.debug({ unknown: [...new Set(unknown)] }, 'Piper: phonemes without an id were dropped');
    const { noise_scale, length_scale, noise_w } = config.inference;
    const rate = Math.min(3, Math.max(0.3, opts.rate ?? 1));
    const feeds: Record<string, Tensor> = {
      input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      input_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: new ort.Tensor('float32', Float32Array.from([noise_scale, length_scale / rate, noise_w]), [3]),
    };
    if (session.inputNames.includes('sid'))
      feeds.sid = new ort.Tensor('int64', BigInt64Array.from([0n]), [1]);
    let result: InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds);
    } catch (err) {
      throw toOtklikError(err, 'ENGINE_FAILED');
    }
    const output = result[session.outputNames[0]!] as Tensor;
    const data = output.data as Float32Array;
    // Piper's own normalization: scale the utterance to full range.
    let max = 0.01;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]!));
    const gain = 32767 / max;
    const samples = new Int16Array(data.length);
    for (let i = 0; i < data.length; i++) samples[i] = clampToInt16(data[i]! * gain);
    return { sampleRate: config.audio.sample_rate, samples };
  }
}
