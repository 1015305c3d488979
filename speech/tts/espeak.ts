import { readWav } from '../../media/audio/wav.js';
import type { EngineState, PcmAudio, TtsChunk, TtsEngine, TtsOptions, TtsVoice } from '../types.js';
import { findExecutable, runProgram } from './process.js';
import { streamSentences } from './streaming.js';

/**
 * espeak-ng (Debian package espeak-ng, voice "ru"): robotic but always there, fast, and the fallback of
 * every other engine. Each sentence is one `espeak-ng --stdout` run whose WAV output is parsed.
 */

export interface EspeakOptions {
  binary?: string;
  voice?: string;
  /** Words per minute at rate 1.0. */
  wordsPerMinute?: number;
  timeoutMs?: number;
}

export const ESPEAK_SAMPLE_RATE = 22050;

export class EspeakTtsEngine implements TtsEngine {
  readonly name = 'espeak';
  private readonly binary: string | null;
  private readonly voice: string;
  private readonly wpm: number;
  private readonly timeoutMs: number;

  constructor(opts: EspeakOptions = {}) {
    this.binary = findExecutable(opts.binary ?? 'espeak-ng');
    this.voice = opts.voice ?? 'ru';
    this.wpm = opts.wordsPerMinute ?? 165;
    this.timeoutMs = opts.timeoutMs ?? 10000;
  }

  state(): EngineState {
    if (!this.binary) {
      return { status: 'model_missing', message: 'espeak-ng is not installed (apt-get install espeak-ng)' };
    }
    return { status: 'ready' };
  }

  async voices(): Promise<TtsVoice[]> {
    return [
      {
        id: this.voice,
        engine: this.name,
        language: 'ru',
        sampleRate: ESPEAK_SAMPLE_RATE,
        available: this.binary !== null,
      },
    ];
  }

  synthesize(text: string, opts: TtsOptions = {}): AsyncIterable<TtsChunk> {
    return streamSentences(text, opts, (sentence, signal) => this.sentence(sentence, opts, signal));
  }

  private async sentence(sentence: string, opts: TtsOptions, signal: AbortSignal): Promise<PcmAudio> {
    const binary = this.binary ?? 'espeak-ng';
    const speed = Math.round(this.wpm * Math.min(3, Math.max(0.3, opts.rate ?? 1)));
    const voice = opts.voice && !opts.voice.includes('/') ? opts.voice : this.voice;
    const { stdout } = await runProgram(
      binary,
      ['-v', voice, '-s', String(speed), '-b', '1', '--stdout', '--stdin'],
      {
        input: sentence,
        timeoutMs: this.timeoutMs,
        signal,
      },
    );
    return readWav(stdout, 'espeak-ng output');
  }
}
