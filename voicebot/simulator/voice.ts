/**
 * The voice simulator (`otklik call simulate --channel voice`): the caller script is played as FreeSWITCH
 * would play a real caller. A media socket is started on 127.0.0.1:0 with the real voice session behind
 * it; the FreeSWITCH-like client connects with the call's metadata, speaks each `say` line synthesized by
 * the TTS engine at 8 kHz after the bot has finished speaking (or over it with barge_in: true), sends
 * keys as DTMF events and silence as silent frames, and hangs up by closing the socket. Recognition uses
 * the configured ASR; without a model a `say` turn cannot be understood, so such a script is refused
 * with a clear MODEL_MISSING error while keypad-only scripts run.
 *
 * `speed` runs the caller's audio and the bot's play-out faster than real time (default 4); the call
 * clock (transcript at_ms, silence lengths) is audio time either way.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { OtklikError } from '../../core/errors.js';
import { synthesizeAll } from '../../speech/tts/streaming.js';
import type { TtsEngine } from '../../speech/types.js';
import { FsClient } from '../channels/media/fs-client.js';
import type { MediaLeg } from '../channels/media/media-leg.js';
import { malformedTotal } from '../channels/media/media-leg.js';
import { startMediaSocket } from '../channels/media/server.js';
import { CallSession, startSession } from '../session.js';
import { type CallerScript, defaultCaller } from './script.js';
import type { SimulatedCall, SimulatorDeps } from './text.js';

export interface VoiceSimulationOptions {
  /** Play-out and caller audio speed; 1 is real time. */
  speed?: number;
  /** Silence after each spoken line, so the VAD ends the caller's turn. */
  trailingSilenceMs?: number;
}

export interface SimulatedVoiceCall extends SimulatedCall {
  voice: {
    /** Bot audio the caller heard, in milliseconds. */
    heardMs: number;
    /** killAudio messages (barge-in) the client received. */
    killAudio: number;
    /** Malformed frames the media socket counted. */
    malformed: number;
  };
}

const SAMPLE_RATE = 8000;

export async function simulateVoiceCall(
  script: CallerScript,
  deps: SimulatorDeps,
  opts: VoiceSimulationOptions = {},
): Promise<SimulatedVoiceCall> {
  const speech = deps.speech;
  if (!speech) throw new OtklikError('VALIDATION_FAILED', 'the voice simulation needs the speech engines');
  const asrState = speech.asr.state();
  const spoken = script.turns.filter((t) => 'say' in t).length;
  if (spoken > 0 && asrState.status !== 'ready') {
    throw new OtklikError(
      'MODEL_MISSING',
      `this caller script has ${spoken} spoken turn(s) ("say"), and the voice channel cannot recognize speech ` +
        `without an ASR model: ${asrState.message}. Keypad-only scripts (dtmf, silence_ms, hangup) run ` +
        'without one, and --channel text runs any script.',
    );
  }
  const speed = opts.speed ?? 4;
  const trailingSilenceMs = opts.trailingSilenceMs ?? 1200;
  // Synthesize the caller's lines before the call, so the caller never hesitates for the synthesizer.
  const lines = new Map<string, Int16Array>();
  for (const turn of script.turns) {
    if ('say' in turn && !lines.has(turn.say)) lines.set(turn.say, await synthesize(speech.tts, turn.say));
  }

  const startedAt = script.at ? new Date(script.at) : new Date();
  const t0 = Date.now();
  const clock = () => Math.round((Date.now() - t0) * speed);
  let session: CallSession | null = null;
  let legReady: (leg: MediaLeg) => void = () => {};
  const legPromise = new Promise<MediaLeg>((resolve) => {
    legReady = resolve;
  });
  const secret = randomBytes(32).toString('base64url');
  const socket = await startMediaSocket({
    host: '127.0.0.1',
    port: 0,
    log: deps.log,
    playout: { speed },
    onCall: (leg) => legReady(leg),
    // A socket of its own on loopback, for this one simulated call.
    auth: { secret, loopbackOnly: true },
  });
  let client: FsClient | null = null;
  try {
    client = await FsClient.connect({
      url: `ws://127.0.0.1:${socket.port}`,
      secret,
      speed,
      sampleRate: SAMPLE_RATE,
      metadata: { callId: randomUUID(), from: script.caller ?? defaultCaller, to: script.number ?? '122' },
    });
    const leg = await legPromise;
    session = new CallSession(leg, {
      ...deps,
      mode: 'voice',
      channel: 'simulator',
      clock,
      now: () => new Date(startedAt.getTime() + clock()),
    });
    const result = await play(script, session, leg, client, lines, trailingSilenceMs);
    return {
      ...result,
      voice: {
        heardMs: Math.round(client.heardMs()),
        killAudio: client.count('killAudio'),
        malformed: malformedTotal(leg.stats),
      },
    };
  } finally {
    if (client && !client.closed) await client.hangup();
    await socket.close();
  }
}

async function play(
  script: CallerScript,
  session: CallSession,
  leg: MediaLeg,
  client: FsClient,
  lines: Map<string, Int16Array>,
  trailingSilenceMs: number,
): Promise<SimulatedCall> {
  const running = startSession(session);
  const over = () => running.finished || client.closed || session.dialog?.ended != null;
  const botDone = async () => {
    await allReceived(leg, client);
    await running.botTurnOver();
    if (!over()) await client.waitUntilQuiet(50);
  };
  let played = 0;
  for (const turn of script.turns) {
    const bargeIn = 'say' in turn && turn.barge_in === true;
    if (bargeIn) await botSpeaking(client, running.settled);
    else await botDone();
    if (over()) break;
    played++;
    if ('say' in turn) {
      await client.sendAudio(lines.get(turn.say)!);
      await client.sendSilence(trailingSilenceMs);
    } else if ('dtmf' in turn) {
      client.sendDtmf(turn.dtmf);
    } else if ('silence_ms' in turn) {
      await client.sendSilence(turn.silence_ms);
    } else {
      await client.hangup();
      break;
    }
  }
  await botDone();
  // The script is over while the bot still listens (e.g. waiting in the operator queue): the simulation
  // ends there; that is not the caller hanging up.
  if (!running.finished) session.stop();
  const result = await running.done;
  return { ...result, unusedTurns: script.turns.length - played };
}

/** Waits until the media socket has received everything the caller sent (it is then in the pipeline). */
async function allReceived(leg: MediaLeg, client: FsClient): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!leg.ended && Date.now() < deadline) {
    if (leg.stats.audioSamples >= client.sentSamples && leg.stats.dtmf >= client.sentDtmf) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Waits until bot audio is reaching the caller (for a barge-in turn), or the call is over. */
async function botSpeaking(client: FsClient, settled: Promise<void>): Promise<void> {
  let over = false;
  void settled.then(() => {
    over = true;
  });
  while (!over && !client.closed && !client.playing) {
    await new Promise((r) => setTimeout(r, 5));
  }
  // Let the caller hear a little of it first, as a person would before interrupting.
  await new Promise((r) => setTimeout(r, 300 / client.speed));
}

async function synthesize(tts: TtsEngine, text: string): Promise<Int16Array> {
  const audio = await synthesizeAll(tts.synthesize(text, { sampleRate: SAMPLE_RATE }));
  if (audio.sampleRate !== SAMPLE_RATE) {
    throw new OtklikError(
      'AUDIO_MALFORMED',
      `the TTS engine gave ${audio.sampleRate} Hz audio, ${SAMPLE_RATE} Hz asked`,
    );
  }
  return audio.samples;
}
