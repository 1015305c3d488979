/**
 * Frames: the typed units that move through a call session's pipeline (DESIGN.md, Frames).
 *
 * Every frame has a `kind` (the discriminant) and `atMs`, milliseconds since the session started, taken
 * from the session clock (an injectable clock, so simulated calls need no real waiting).
 * Data frames (audio, transcripts, bot speech) keep their order; control frames (`isControl`) overtake
 * queued data frames in every processor queue (see pipeline.ts).
 */
import type { Classification } from '../../nlu/types.js';

export interface AudioInFrame {
  kind: 'AudioIn';
  atMs: number;
  samples: Int16Array;
  sampleRate: number;
}

export interface AudioOutFrame {
  kind: 'AudioOut';
  atMs: number;
  samples: Int16Array;
  sampleRate: number;
  /** The BotSay this audio speaks. */
  utteranceId: string;
  /** The last chunk of that utterance. */
  last?: boolean;
}

export interface SpeechStartedFrame {
  kind: 'SpeechStarted';
  atMs: number;
}

export interface SpeechStoppedFrame {
  kind: 'SpeechStopped';
  atMs: number;
}

export interface TranscriptFrame {
  kind: 'Transcript';
  atMs: number;
  text: string;
  /** false for partial results (they allow barge-in), true for the end of the caller's turn. */
  final: boolean;
  confidence: number;
}

export interface DtmfFrame {
  kind: 'Dtmf';
  atMs: number;
  /** One key: 0-9, *, #. */
  digit: string;
}

export interface IntentFrame {
  kind: 'Intent';
  atMs: number;
  classification: Classification;
}

export interface BotSayFrame {
  kind: 'BotSay';
  atMs: number;
  text: string;
  utteranceId: string;
  /** `${intent}@v${version}` when the text is an approved answer. */
  answerVersion?: string;
  /** Whether caller speech or a key may cut this utterance short. */
  bargeIn: boolean;
}

export interface BotSayDoneFrame {
  kind: 'BotSayDone';
  atMs: number;
  utteranceId: string;
  /** true when the utterance was cut short by barge-in. */
  interrupted?: boolean;
}

/** The caller's silence lasted `silenceMs` since the bot stopped speaking (drives reprompts). */
export interface SilenceFrame {
  kind: 'Silence';
  atMs: number;
  silenceMs: number;
}

/** Stop bot playback now (barge-in); queued bot speech that allows barge-in is dropped. */
export interface InterruptFrame {
  kind: 'Interrupt';
  atMs: number;
  reason?: 'speech' | 'dtmf' | 'policy';
}

export interface EscalateFrame {
  kind: 'Escalate';
  atMs: number;
  reason: string;
}

export interface HangupFrame {
  kind: 'Hangup';
  atMs: number;
  reason: 'caller' | 'bot' | 'transferred' | 'error' | 'shutdown';
}

export interface ErrorFrame {
  kind: 'Error';
  atMs: number;
  error: Error;
  /** The processor that failed. */
  source?: string;
  /** The session can go on (a fallback exists) — false means end the call politely. */
  recoverable?: boolean;
}

export type Frame =
  | AudioInFrame
  | AudioOutFrame
  | SpeechStartedFrame
  | SpeechStoppedFrame
  | TranscriptFrame
  | DtmfFrame
  | IntentFrame
  | BotSayFrame
  | BotSayDoneFrame
  | SilenceFrame
  | InterruptFrame
  | EscalateFrame
  | HangupFrame
  | ErrorFrame;

export type FrameKind = Frame['kind'];
export type FrameOf<K extends FrameKind> = Extract<Frame, { kind: K }>;

const controlKinds: ReadonlySet<FrameKind> = new Set<FrameKind>(['Interrupt', 'Hangup', 'Error', 'Escalate']);

/** Control frames overtake queued data frames (they are never reordered among themselves). */
export function isControl(frame: Frame): boolean {
  return controlKinds.has(frame.kind);
}

/** Builds a frame of a kind: `makeFrame('Dtmf', { digit: '1' }, clock())`. */
export function makeFrame<K extends FrameKind>(
  kind: K,
  fields: Omit<FrameOf<K>, 'kind' | 'atMs'>,
  atMs: number,
): FrameOf<K> {
  return { ...fields, kind, atMs } as FrameOf<K>;
}

/** A short description for logs: never the caller's text or audio. */
export function describeFrame(frame: Frame): string {
  switch (frame.kind) {
    case 'AudioIn':
    case 'AudioOut':
      return `${frame.kind}(${frame.samples.length}@${frame.sampleRate})`;
    case 'Transcript':
      return `Transcript(${frame.final ? 'final' : 'partial'})`;
    case 'BotSay':
    case 'BotSayDone':
      return `${frame.kind}(${frame.utteranceId})`;
    case 'Hangup':
      return `Hangup(${frame.reason})`;
    default:
      return frame.kind;
  }
}
