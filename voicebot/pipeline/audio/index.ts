/**
 * The voice half of a session's pipeline. A voice session is
 *   [...voice.input, nlu, policy, ...voice.output]
 * where input turns the caller's AudioIn and Dtmf frames into SpeechStarted/SpeechStopped/Transcript
 * frames (with barge-in), and output turns BotSay into audio on the leg and reports BotSayDone upstream.
 * Frames enter at the head: the leg's audio as AudioIn, its keys as Dtmf.
 */
import type { CallLeg } from '../../../media/call-leg.js';
import type { AsrEngine, TtsEngine, VadEngine } from '../../../speech/types.js';
import type { FrameProcessor } from '../pipeline.js';
import { AsrProcessor } from './asr-processor.js';
import { BargeInProcessor } from './barge-in.js';
import { MediaOutProcessor } from './media-out.js';
import { PlaybackTracker } from './playback-tracker.js';
import { SilenceProcessor } from './silence.js';
import { TtsProcessor } from './tts-processor.js';
import { VadProcessor } from './vad-processor.js';

export { AsrProcessor } from './asr-processor.js';
export { BargeInProcessor } from './barge-in.js';
export { MediaOutProcessor } from './media-out.js';
export { type InterruptReason, PlaybackTracker } from './playback-tracker.js';
export { SilenceProcessor } from './silence.js';
export { TtsProcessor } from './tts-processor.js';
export { VadProcessor } from './vad-processor.js';

export interface VoiceProcessorsOptions {
  leg: CallLeg;
  speech: { vad: VadEngine; asr: AsrEngine; tts: TtsEngine };
  /** The rate the leg plays (8000 for telephony). */
  sampleRate: number;
  voice?: string;
  /** Endpointing: caller silence that ends a turn. */
  hangoverMs?: number;
  /**
   * Caller silence (in audio time, after the bot finished) that yields a Silence frame, normally the
   * flow's noInputMs. Omit it when the session runs its own no-input timer instead.
   */
  noInputMs?: number;
  /** Words the recognizer should favour (the KB vocabulary), never a closed list. */
  asrHints?: string[];
  onFirstAudio?: (utteranceId: string) => void;
}

export interface VoiceProcessors {
  /** Before the NLU. */
  input: FrameProcessor[];
  /** After the policy. */
  output: FrameProcessor[];
  tracker: PlaybackTracker;
  asr: AsrProcessor;
}

export function createVoiceProcessors(opts: VoiceProcessorsOptions): VoiceProcessors {
  const tracker = new PlaybackTracker();
  const asr = new AsrProcessor({ asr: opts.speech.asr, ...(opts.asrHints ? { hints: opts.asrHints } : {}) });
  const input: FrameProcessor[] = [
    new BargeInProcessor(tracker, { name: 'barge-in-keys', kinds: ['Dtmf'] }),
    new VadProcessor({ vad: opts.speech.vad, ...(opts.hangoverMs ? { hangoverMs: opts.hangoverMs } : {}) }),
    new BargeInProcessor(tracker, { name: 'barge-in-speech', kinds: ['SpeechStarted'] }),
    ...(opts.noInputMs ? [new SilenceProcessor({ tracker, noInputMs: opts.noInputMs })] : []),
    asr,
    new BargeInProcessor(tracker, { name: 'barge-in-partial', kinds: ['Transcript'] }),
  ];
  const output: FrameProcessor[] = [
    new TtsProcessor({
      tts: opts.speech.tts,
      tracker,
      sampleRate: opts.sampleRate,
      ...(opts.voice ? { voice: opts.voice } : {}),
    }),
    new MediaOutProcessor({
      leg: opts.leg,
      tracker,
      ...(opts.onFirstAudio ? { onFirstAudio: opts.onFirstAudio } : {}),
    }),
  ];
  return { input, output, tracker, asr };
}
