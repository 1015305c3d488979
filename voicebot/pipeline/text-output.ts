/**
 * Output of a text leg: each BotSay is sent as a message and reported done at once (upstream), since
 * a text message has no playback to wait for.
 */
import type { CallLeg } from '../../media/call-leg.js';
import { type Frame, makeFrame } from './frames.js';
import type { FrameProcessor, ProcessContext } from './pipeline.js';

export class TextOutputProcessor implements FrameProcessor {
  readonly name = 'text-out';
  readonly kinds = ['BotSay'] as const;

  /** `onSent`: each message once it went out (turn latency). */
  constructor(
    private readonly leg: CallLeg,
    private readonly onSent?: () => void,
  ) {}

  async process(frame: Frame, push: (f: Frame) => void, ctx: ProcessContext): Promise<void> {
    if (frame.kind !== 'BotSay') {
      push(frame);
      return;
    }
    try {
      if (!this.leg.ended) {
        await this.leg.sendText(frame.text);
        this.onSent?.();
      }
    } finally {
      ctx.pushUpstream(makeFrame('BotSayDone', { utteranceId: frame.utteranceId }, ctx.now()));
    }
  }
}
