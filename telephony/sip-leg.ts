import { randomUUID } from 'node:crypto';
import { mkdirSync, unlink, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isOtklikError, type OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { encodeWav } from '../media/audio/wav.js';
import type {
  CallLeg,
  CallLegEvent,
  CallMetadata,
  ForwardResult,
  LegEndReason,
  PlayOptions,
} from '../media/call-leg.js';
import {
  dialString,
  type FreeswitchControl,
  type FsEvent,
  fsCommands,
  parseOriginateResult,
} from './fsmrf.js';

/**
 * The caller's leg on FreeSWITCH, controlled by channel uuid over the event socket. It implements CallLeg for
 * the call-control logic, and reports what mod_audio_fork says about the voice bot's socket as ForkEvents.
 */
export type ForkEvent =
  | { type: 'connected' }
  | { type: 'play_audio'; file: string }
  | { type: 'kill_audio' }
  | { type: 'transfer'; data: Record<string, unknown> }
  | { type: 'message'; data: unknown }
  | { type: 'disconnected'; reason: 'closed' | 'connect_failed' | 'error' };

export interface SipLegOptions {
  control: FreeswitchControl;
  uuid: string;
  meta: CallMetadata;
  /** Where audio handed to playAudio is written for FreeSWITCH to play (FreeSWITCH must see the same path). */
  audioDir: string;
  /** FreeSWITCH dial-string prefix of the carrier trunk (e.g. sofia/gateway/carrier). */
  trunk?: string | undefined;
  /** How long a forward rings when the caller of forward() gives no time (config telephony.forwardTimeoutMs). */
  forwardTimeoutMs: number;
  /** Caller id presented on forwards; the caller's own number when unset. */
  callerIdNumber?: string | undefined;
  log: Logger;
  /** Ends the SIP dialog as well (drachtio BYE); FreeSWITCH's hang-up suffices without it. */
  onHangup?: () => Promise<void>;
}

/**
 * Channel variables set before a recording starts (the dialplan sets the same for drachtio_mrf calls). Not
 * rtp_disable_hold, which the dialplan sets: only a caller's leg through drachtio has its re-INVITEs pass the
 * app, which stretches media_timeout for the hold (sip-inbound.ts); on a leg FreeSWITCH placed itself, its own
 * hold handling (and its hold timeout) must stay, though the recording pauses while that far end holds.
 */
export const RECORDING_VARS: readonly (readonly [string, string])[] = [
  ['RECORD_STEREO', 'true'],
  ['record_sample_rate', '8000'],
];

interface Playback {
  file: string;
  id: string;
  done: (completed: boolean) => void;
}

export class SipCallLeg implements CallLeg {
  readonly meta: CallMetadata;
  readonly uuid: string;
  /** The uuid of the party bridged to the caller (agency, operator), if any. */
  bridgedUuid: string | null = null;
  /** The bridge now standing was made with `keepCaller`: the caller's channel outlives the other side. */
  keepsCaller = false;
  private endedFlag = false;
  private readonly listeners = new Set<(e: CallLegEvent) => void>();
  private readonly forkListeners = new Set<(e: ForkEvent) => void>();
  private readonly bridgeEndListeners = new Set<(otherUuid: string) => void>();
  /**
   * The bot's audio waits here, not on FreeSWITCH's channel: one file at a time is broadcast, the next when it
   * stopped, so that nothing the call's control sends (kill, break, bridge) queues behind a backlog of speech.
   */
  private readonly queue: Playback[] = [];
  private current: Playback | null = null;
  private held = false;
  private readonly unsubscribe: () => void;
  private playCount = 0;

  constructor(private readonly opts: SipLegOptions) {
    this.meta = opts.meta;
    this.uuid = opts.uuid;
    mkdirSync(opts.audioDir, { recursive: true });
    this.unsubscribe = opts.control.onChannel(opts.uuid, (e) => this.onChannelEvent(e));
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  on(listener: (event: CallLegEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The party of a forward made with `keepCaller` hung up first: the bridge ended and the caller's channel is
   * still up, parked. Not told when the caller hangs up first, nor for a party the call moved away from.
   */
  onBridgeEnd(listener: (otherUuid: string) => void): () => void {
    this.bridgeEndListeners.add(listener);
    return () => this.bridgeEndListeners.delete(listener);
  }

  onFork(listener: (event: ForkEvent) => void): () => void {
    this.forkListeners.add(listener);
    return () => this.forkListeners.delete(listener);
  }

  async playAudio(samples: Int16Array, sampleRate: number, opts: PlayOptions): Promise<void> {
    const file = join(this.opts.audioDir, `${this.uuid}-${++this.playCount}.wav`);
    writeFileSync(file, encodeWav({ samples, sampleRate }));
    try {
      await this.playFile(file, opts.id);
    } finally {
      unlink(file, () => {});
    }
  }

  /**
   * Plays a file FreeSWITCH can read. Files played one after another queue up here and play in order; resolves
   * when this one finished (then playback_done with its id) or was stopped by stopAudio/hang-up (no
   * playback_done) or could not be played.
   */
  async playFile(file: string, id: string = randomUUID()): Promise<void> {
    if (this.endedFlag) return;
    await new Promise<void>((resolve) => {
      this.queue.push({
        file,
        id,
        done: (completed) => {
          if (completed) this.emit({ type: 'playback_done', id });
          resolve();
        },
      });
      this.pump();
    });
  }

  /** Broadcasts the next queued file when nothing plays and the caller is not holding. */
  private pump(): void {
    if (this.current || this.held || this.endedFlag) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next;
    this.opts.control.api(fsCommands.playFile(this.uuid, next.file)).catch((err: unknown) => {
      if (this.current === next) this.current = null;
      next.done(false);
      // A caller who just hung up: FreeSWITCH answers "invalid uuid" before its hang-up event arrives.
      const gone = this.endedFlag || /invalid uuid|no such channel/i.test((err as Error).message);
      this.opts.log[gone ? 'debug' : 'warn'](
        { callId: this.meta.callId, err: (err as Error).message },
        gone ? 'audio not played: the channel is gone' : 'audio could not be played',
      );
      this.pump();
    });
  }

  async sendText(_text: string): Promise<void> {
    // A phone call has no screen; the bot speaks instead.
  }

  async stopAudio(): Promise<void> {
    if (this.endedFlag) return;
    this.settlePlaying(false);
    // At most the one file we broadcast is on the channel: `all` drops it too when it has not started yet.
    await this.quietly(fsCommands.break(this.uuid));
  }

  private settlePlaying(completed: boolean): void {
    const plays = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = null;
    for (const p of plays) p.done(completed);
  }

  /**
   * The caller holds (a re-INVITE with sendonly/inactive) or is back: the bot's audio waits, the caller's hold
   * music is not forked to the bot, and the bot is told (`{"event":"hold","held":…}` over the fork's socket).
   */
  setHeld(held: boolean): void {
    if (this.endedFlag || held === this.held) return;
    this.held = held;
    this.emit({ type: 'hold', held });
    void this.quietly(fsCommands.audioForkPause(this.uuid, held)).catch(() => {});
    void this.sendToBot({ event: 'hold', held }).catch(() => {});
    if (!held) this.pump();
  }

  get onHold(): boolean {
    return this.held;
  }

  /**
   * Places a call to the target (number through the trunk, or SIP URI) and bridges the caller to it when it
   * answers. Busy, no answer and failures come back as results: the caller stays on the line with us.
   */
  async forward(
    target: string,
    opts: { timeoutMs?: number; keepCaller?: boolean } = {},
  ): Promise<ForwardResult> {
    if (this.endedFlag) return { status: 'failed', reason: 'caller hung up' };
    let dial: string;
    try {
      dial = dialString(target, this.opts.trunk);
    } catch (err) {
      return { status: 'failed', reason: (err as Error).message };
    }
    const other = randomUUID();
    const timeoutMs = opts.timeoutMs ?? this.opts.forwardTimeoutMs;
    let result: string;
    try {
      result = await this.opts.control.bgapi(
        fsCommands.originate({
          uuid: other,
          dialString: dial,
          timeoutMs,
          callerIdNumber:
            this.opts.callerIdNumber ?? (/^\+?\d+$/.test(this.meta.from) ? this.meta.from : undefined),
        }),
      );
    } catch (err) {
      return { status: 'failed', reason: (err as Error).message };
    }
    const parsed = parseOriginateResult(result);
    if (parsed.status !== 'answered') return parsed;
    if (this.endedFlag) {
      await this.quietly(fsCommands.kill(other));
      return { status: 'failed', reason: 'caller hung up' };
    }
    try {
      // The caller's channel stays up, parked, when the other side hangs up (hangup_after_bridge off).
      if (opts.keepCaller)
        await this.opts.control.api(fsCommands.setVar(this.uuid, 'park_after_bridge', 'true'));
      await this.opts.control.api(fsCommands.bridge(this.uuid, other));
    } catch (err) {
      await this.quietly(fsCommands.kill(other));
      return { status: 'failed', reason: (err as Error).message };
    }
    this.bridgedUuid = other;
    this.keepsCaller = opts.keepCaller === true;
    if (opts.keepCaller) {
      const off = this.opts.control.onChannel(other, (e) => {
        if (e.name !== 'CHANNEL_HANGUP_COMPLETE') return;
        off();
        if (this.endedFlag || this.bridgedUuid !== other) return;
        this.bridgedUuid = null;
        for (const l of [...this.bridgeEndListeners]) l(other);
      });
    }
    return { status: 'answered' };
  }

  async hangup(reason: LegEndReason = 'bot_hangup'): Promise<void> {
    if (this.endedFlag) return;
    await this.quietly(fsCommands.kill(this.uuid));
    await this.opts
      .onHangup?.()
      .catch((err) => this.opts.log.warn({ err, callId: this.meta.callId }, 'SIP BYE failed'));
    this.end(reason);
  }

  /**
   * Starts the stereo session recording of the whole channel into `path` (uuid_record: a media bug on the
   * channel, not on a playback, so barge-ins and bridges do not end it). The file's format is fixed rather
   * than taken from the codec in use (8 kHz whatever the caller's ptime), and the profiles' soft RTP timer
   * reads a frame every ptime when the caller sends none, so the file stays as long as the call: silence, a
   * hold (rtp_disable_hold) and a ptime FreeSWITCH had to change mid-call included.
   */
  async startRecording(path: string): Promise<void> {
    for (const [name, value] of RECORDING_VARS)
      await this.opts.control.api(fsCommands.setVar(this.uuid, name, value));
    await this.opts.control.api(fsCommands.recordStart(this.uuid, path));
  }

  /** Forks the caller's audio (8 kHz L16 mono) to the voice bot's media socket with the call metadata. */
  async startFork(url: string, metadata: Record<string, unknown>): Promise<void> {
    await this.opts.control.api(fsCommands.audioForkStart(this.uuid, url, metadata));
  }

  async stopFork(): Promise<void> {
    await this.quietly(fsCommands.audioForkStop(this.uuid));
  }

  /** Sends a JSON message to the voice bot over the fork's socket. */
  async sendToBot(message: Record<string, unknown>): Promise<void> {
    await this.quietly(fsCommands.audioForkSendText(this.uuid, message));
  }

  private async quietly(command: string): Promise<void> {
    try {
      await this.opts.control.api(command);
    } catch (err) {
      // The channel may be gone already (caller hung up): nothing left to stop.
      if (!isOtklikError(err, 'ENGINE_FAILED')) throw err;
      this.opts.log.debug(
        { callId: this.meta.callId, command: command.split(' ')[0], err: (err as OtklikError).message },
        'FreeSWITCH command had no effect',
      );
    }
  }

  private emit(event: CallLegEvent): void {
    for (const l of [...this.listeners]) l(event);
  }

  private emitFork(event: ForkEvent): void {
    for (const l of [...this.forkListeners]) l(event);
  }

  private end(reason: LegEndReason): void {
    if (this.endedFlag) return;
    this.endedFlag = true;
    this.settlePlaying(false);
    this.emit({ type: 'hangup', reason });
    this.unsubscribe();
  }

  private onChannelEvent(e: FsEvent): void {
    switch (e.name) {
      case 'DTMF': {
        const digit = e.header('DTMF-Digit');
        const duration = Number(e.header('DTMF-Duration'));
        // FreeSWITCH reports DTMF duration in 8 kHz samples.
        if (digit)
          this.emit({
            type: 'dtmf',
            digit,
            ...(duration > 0 ? { durationMs: Math.round(duration / 8) } : {}),
          });
        return;
      }
      case 'PLAYBACK_STOP': {
        // A break comes from stopAudio, which settled the file already.
        const file = e.header('Playback-File-Path') ?? '';
        if (e.header('Playback-Status') === 'break' || this.current?.file !== file) return;
        const p = this.current;
        this.current = null;
        p.done(true);
        this.pump();
        return;
      }
      case 'CHANNEL_HANGUP_COMPLETE':
        this.end('caller_hangup');
        return;
      case 'CUSTOM':
        this.onForkEvent(e);
        return;
    }
  }

  private onForkEvent(e: FsEvent): void {
    const parse = (): Record<string, unknown> => {
      try {
        const v = JSON.parse(e.body ?? '{}');
        return v && typeof v === 'object' ? v : {};
      } catch {
        return {};
      }
    };
    switch (e.subclass) {
      case 'mod_audio_fork::connect':
        this.emitFork({ type: 'connected' });
        return;
      case 'mod_audio_fork::play_audio': {
        const file = parse().file;
        if (typeof file === 'string') this.emitFork({ type: 'play_audio', file });
        return;
      }
      case 'mod_audio_fork::kill_audio':
        this.emitFork({ type: 'kill_audio' });
        return;
      case 'mod_audio_fork::transfer':
        this.emitFork({ type: 'transfer', data: parse() });
        return;
      case 'mod_audio_fork::json':
        this.emitFork({ type: 'message', data: parse() });
        return;
      case 'mod_audio_fork::disconnect':
        this.emitFork({ type: 'disconnected', reason: 'closed' });
        return;
      case 'mod_audio_fork::connect_failed':
        this.emitFork({ type: 'disconnected', reason: 'connect_failed' });
        return;
      case 'mod_audio_fork::error':
        this.emitFork({ type: 'disconnected', reason: 'error' });
        return;
    }
  }
}
