/**
 * Engine interfaces of the speech part. One adapter per engine implements each; nothing above these
 * interfaces knows which engine runs (no code switches on a vendor name). Audio is PCM16 mono.
 */

import type { PcmAudio } from '../media/audio/pcm.js';

export type { PcmAudio };

export type EngineState =
  /** message: set when the engine works in a degraded way (e.g. a fallback engine speaks instead). */
  | { status: 'ready'; message?: string }
  | { status: 'model_missing'; message: string }
  | { status: 'failed'; message: string };

export interface VadEvent {
  type: 'speech_start' | 'speech_end';
  /** Position in the stream, milliseconds from its start. */
  atMs: number;
  /**
   * On speech_start (optional, in-process engines): the stream's audio from preRollMs before atMs up to the
   * end of the audio pushed so far, so that the ASR can start with the first syllable.
   */
  audio?: Int16Array;
}

/** Streaming voice activity detection on one audio stream. */
export interface VadStream {
  /** Feeds audio (any length, the stream's sample rate); returns the events this audio completed. */
  push(audio: Int16Array): Promise<VadEvent[]>;
  /** Ends the stream; returns a final speech_end if speech was ongoing. */
  flush(): Promise<VadEvent[]>;
  /** Speech probability of the last processed window, 0..1. */
  readonly lastProbability: number;
  /** Abandons the stream without a flush (hang-up); frees what a remote stream holds on the server. */
  close?(): void;
}

export interface VadOptions {
  sampleRate: 8000 | 16000;
  /** Probability above which a window counts as speech. */
  threshold?: number;
  /** Speech shorter than this is ignored. */
  minSpeechMs?: number;
  /** Silence this long after speech ends the speech segment (end of turn). */
  hangoverMs?: number;
  /** Audio kept before speech_start so the ASR hears the first syllable. */
  preRollMs?: number;
}

export interface VadEngine {
  readonly name: string;
  state(): EngineState;
  createStream(opts: VadOptions): Promise<VadStream>;
}

export interface AsrWord {
  word: string;
  startMs: number;
  endMs: number;
  confidence: number;
}

export interface AsrResult {
  text: string;
  final: boolean;
  confidence: number;
  words: AsrWord[];
}

export interface AsrStream {
  /** Feeds audio at the stream's sample rate; returns a partial or final result when there is one. */
  push(audio: Int16Array): Promise<AsrResult | null>;
  /** Ends the utterance and returns the final result. */
  finish(): Promise<AsrResult>;
  close(): void;
}

export interface AsrOptions {
  sampleRate: number;
  /**
   * Words and phrases likely in this call (the knowledge base's place, clinic and topic names): an engine
   * that can bias its recognition favours them. Recognition stays open: a caller who says anything else is
   * still recognized. Engines without biasing ignore them.
   */
  hints?: string[];
  /**
   * A closed set of phrases, for a step whose answers are closed choices (yes/no, a short menu): an engine
   * with grammars recognizes only these, and anything else comes out as no text. Engines without grammars
   * recognize openly.
   */
  grammar?: string[];
}

export interface AsrEngine {
  readonly name: string;
  state(): EngineState;
  createStream(opts: AsrOptions): Promise<AsrStream>;
}

export interface TtsVoice {
  id: string;
  engine: string;
  language: string;
  sampleRate: number;
  available: boolean;
}

export interface TtsOptions {
  voice?: string;
  /** Output sample rate; the engine resamples to it. */
  sampleRate?: number;
  /** 1.0 = normal speed. */
  rate?: number;
  signal?: AbortSignal;
}

export interface TtsChunk {
  audio: PcmAudio;
  /** The text (sentence) this chunk speaks. */
  text: string;
  last: boolean;
}

export interface TtsEngine {
  readonly name: string;
  state(): EngineState;
  voices(): Promise<TtsVoice[]>;
  /** Streams audio sentence by sentence so the first audio comes early. */
  synthesize(text: string, opts?: TtsOptions): AsyncIterable<TtsChunk>;
}

/** What the voice bot needs of speech, served in-process or by the gRPC client alike. */
export interface SpeechServices {
  vad: VadEngine;
  asr: AsrEngine;
  tts: TtsEngine;
  close(): Promise<void>;
}
