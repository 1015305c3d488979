/**
 * The policy processor: the bridge between frames and the dialog that the flow runner drives.
 * Intent, Dtmf and Silence frames become the caller's input; BotSayDone (upstream from the output) ends
 * a `say`; Hangup ends the dialog. It never awaits the dialog itself (that would block its own queue,
 * where BotSayDone arrives): the flow runner runs beside the pipeline (see session.ts).
 */
import type { Dialog } from './dialog.js';
import type { Frame } from './frames.js';
import type { FrameProcessor } from './pipeline.js';

export class PolicyProcessor implements FrameProcessor {
  readonly name = 'policy';
  readonly kinds = ['Intent', 'Dtmf', 'Silence', 'BotSayDone', 'Hangup', 'SpeechStarted'] as const;

  constructor(private readonly dialog: Dialog) {}

  process(frame: Frame, push: (f: Frame) => void): void {
    switch (frame.kind) {
      case 'Intent':
        this.dialog.deliver({
          kind: 'speech',
          text: frame.classification.text,
          classification: frame.classification,
        });
        return;
      case 'Dtmf':
        this.dialog.deliver({ kind: 'dtmf', digit: frame.digit });
        return;
      case 'Silence':
        this.dialog.deliver({ kind: 'silence', silenceMs: frame.silenceMs });
        return;
      case 'BotSayDone':
        this.dialog.playbackDone(frame.utteranceId);
        push(frame);
        return;
      case 'SpeechStarted':
        this.dialog.callerActivity();
        push(frame);
        return;
      case 'Hangup':
        if (frame.reason === 'caller') this.dialog.end('caller');
        push(frame);
        return;
      default:
        push(frame);
    }
  }
}
