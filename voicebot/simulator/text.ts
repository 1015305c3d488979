/**
 * The text simulator: plays a caller script through the real dialog engine over a text leg. Each `say`
 * enters as a final Transcript, `dtmf` as key presses, `silence_ms` as a Silence frame, `hangup` hangs up.
 * Time is simulated: a clock advances by how long each utterance would take to speak and by each silence,
 * so reprompts happen without real waiting and the transcript's at_ms look like a real call's.
 */
import { randomUUID } from 'node:crypto';
import { TextLeg } from '../channels/text/text-leg.js';
import { CallSession, type SessionDeps, startSession } from '../session.js';
import { type CallerScript, defaultCaller, type SimulationResult } from './script.js';

/** A manually advanced clock: milliseconds since the call started. */
export class SimClock {
  private ms = 0;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += Math.max(0, Math.round(ms));
  }
}

/** About how long speaking a text takes (≈14 characters a second, as a careful TTS voice). */
export function speechMs(text: string): number {
  return 400 + text.length * 70;
}

export type SimulatorDeps = Omit<SessionDeps, 'now' | 'clock' | 'channel' | 'mode'> & {
  /** `text` plays the script as the web chat does (no operator desk there); default a simulated call. */
  channel?: 'simulator' | 'text';
};

export interface SimulatedCall extends SimulationResult {
  callId: string;
  /** Turns of the script not played because the call had already ended. */
  unusedTurns: number;
}

export async function simulateTextCall(
  script: CallerScript,
  { channel = 'simulator', ...deps }: SimulatorDeps,
): Promise<SimulatedCall> {
  const clock = new SimClock();
  const startedAt = script.at ? new Date(script.at) : new Date();
  const leg = new TextLeg({
    callId: randomUUID(),
    from: script.caller ?? defaultCaller,
    to: script.number ?? '122',
    startedAt,
    channel,
  });
  leg.onBotMessage((m) => clock.advance(speechMs(m.text)));
  const session = new CallSession(leg, {
    ...deps,
    mode: 'text',
    channel,
    clock: clock.now,
    now: () => new Date(startedAt.getTime() + clock.now()),
  });
  const running = startSession(session);
  let played = 0;
  for (const turn of script.turns) {
    await running.botTurnOver();
    if (running.finished || leg.ended || session.dialog?.ended) break;
    played++;
    if ('say' in turn) {
      clock.advance(speechMs(turn.say));
      leg.callerSays(turn.say);
    } else if ('dtmf' in turn) {
      clock.advance(300 * turn.dtmf.length);
      leg.callerPresses(turn.dtmf);
    } else if ('silence_ms' in turn) {
      clock.advance(turn.silence_ms);
      session.callerSilence(turn.silence_ms);
    } else {
      leg.callerHangsUp();
      break;
    }
  }
  await running.botTurnOver();
  // The script is over while the bot still listens (e.g. waiting in the operator queue): the simulation
  // ends there; that is not the caller hanging up.
  if (!running.finished) session.stop();
  const result = await running.done;
  return { ...result, unusedTurns: script.turns.length - played };
}
