/**
 * A call leg over one mod_audio_fork WebSocket: the caller's audio and DTMF come in, the bot's audio goes
 * out as paced playAudio messages (see playout.ts), barge-in sends killAudio, forwarding asks the
 * telephony side with a `transfer` message and waits for its `transferResult`.
 */
import type WebSocket from 'ws';
import type { Logger } from '../../../core/log.js';
import type {
  CallLeg,
  CallLegEvent,
  CallMetadata,
  ForwardResult,
  LegEndReason,
  PlayOptions,
} from '../../../media/call-leg.js';
import { Playout, type PlayoutOptions } from './playout.js';
import {
  decodeL16,
  disconnectMessage,
  type ForkMetadata,
  type InboundEvent,
  killAudioMessage,
  type Malformation,
  parseEvent,
  playAudioMessage,
  transferMessage,
} from './protocol.js';

export interface MediaLegStats {
  audioFrames: number;
  audioSamples: number;
  dtmf: number;
  malformed: Record<Malformation, number>;
  playChunksSent: number;
  killAudioSent: number;
}

export function emptyStats(): MediaLegStats {
  return {
    audioFrames: 0,
    audioSamples: 0,
    dtmf: 0,
    malformed: {
      bad_json: 0,
      odd_length: 0,
      binary_before_metadata: 0,
      unknown_type: 0,
      bad_metadata: 0,
      too_long: 0,
    },
    playChunksSent: 0,
    killAudioSent: 0,
  };
}

export function malformedTotal(stats: MediaLegStats): number {
  return Object.values(stats.malformed).reduce((a, b) => a + b, 0);
}

export interface MediaLegOptions {
  ws: WebSocket;
  fork: ForkMetadata;
  log: Logger;
  playout?: PlayoutOptions;
  /** Counters from before the metadata arrived (binary frames too early, bad JSON). */
  stats?: MediaLegStats;
  /** How long forward() waits for the telephony side's transferResult. */
  forwardTimeoutMs?: number;
  /** Caller audio kept for a session that has not subscribed yet (the newest this long; default 10 s). */
  backlogAudioMs?: number;
}

/** Keys and transcripts kept for a session that has not subscribed yet (the first ones). */
const BACKLOG_INPUTS = 200;

export class MediaLeg implements CallLeg {
  readonly meta: CallMetadata;
  readonly stats: MediaLegStats;
  private readonly ws: WebSocket;
  private readonly log: Logger;
  private readonly listeners = new Set<(event: CallLegEvent) => void>();
  private readonly playout: Playout;
  private readonly forwardTimeoutMs: number;
  private pendingForward: ((result: ForwardResult) => void) | null = null;
  private endReason: LegEndReason | null = null;
  private transferred = false;
  /**
   * Events that arrived before anyone listened: the session subscribes only once its call record is written,
   * and a caller may hang up before that. The hang-up (and any other control event) is always kept; caller
   * audio is bounded by duration (the newest is kept) and keys and transcripts by count (the first are kept),
   * so a burst can neither grow memory without bound nor push the hang-up out.
   */
  private readonly backlog: CallLegEvent[] = [];
  private readonly backlogAudioLimit: number;
  private backlogAudio = 0;
  private backlogInputs = 0;
  private readonly droppedBeforeSubscribe = { audioFrames: 0, inputs: 0 };

  constructor(opts: MediaLegOptions) {
    this.ws = opts.ws;
    this.log = opts.log;
    this.stats = opts.stats ?? emptyStats();
    this.forwardTimeoutMs = opts.forwardTimeoutMs ?? 30000;
    this.meta = {
      callId: opts.fork.callId,
      from: opts.fork.caller,
      to: opts.fork.called,
      startedAt: new Date(),
      channel: 'media',
      extra: { ...opts.fork.raw, sampleRate: opts.fork.sampleRate },
    };
    this.sampleRate = opts.fork.sampleRate;
    this.backlogAudioLimit = Math.round(((opts.backlogAudioMs ?? 10_000) * this.sampleRate) / 1000);
    this.playout = new Playout(
      {
        sendChunk: (samples, rate) => {
          this.send(playAudioMessage(samples, rate));
          this.stats.playChunksSent++;
        },
      },
      opts.playout,
    );
  }

  /** The caller audio's sample rate (from the metadata); the bot's audio is best sent at it too. */
  readonly sampleRate: 8000 | 16000;

  get ended(): boolean {
    return this.endReason !== null;
  }

  /** True while bot audio is queued or still playing at FreeSWITCH. */
  get playing(): boolean {
    return this.playout.active;
  }

  on(listener: (event: CallLegEvent) => void): () => void {
    this.listeners.add(listener);
    const { audioFrames, inputs } = this.droppedBeforeSubscribe;
    if (audioFrames > 0 || inputs > 0) {
      this.log.warn(
        { callId: this.meta.callId, droppedAudioFrames: audioFrames, droppedInputs: inputs },
        'media leg: caller input that arrived before the session started was partly dropped',
      );
      this.droppedBeforeSubscribe.audioFrames = 0;
      this.droppedBeforeSubscribe.inputs = 0;
    }
    if (this.backlog.length > 0) {
      const pending = this.backlog.splice(0);
      this.backlogAudio = 0;
      this.backlogInputs = 0;
      for (const event of pending) listener(event);
    }
    return () => this.listeners.delete(listener);
  }

  /** Handles one WebSocket message after the metadata. Malformed input is counted and dropped. */
  handleMessage(data: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    if (isBinary) {
      const decoded = decodeL16(data);
      if (!decoded.ok) {
        this.countMalformed(decoded.problem, decoded.detail);
        return;
      }
      this.stats.audioFrames++;
      this.stats.audioSamples += decoded.value.length;
      this.emit({ type: 'audio', samples: decoded.value, sampleRate: this.sampleRate });
      return;
    }
    const parsed = parseEvent(data.toString('utf8'));
    if (!parsed.ok) {
      this.countMalformed(parsed.problem, parsed.detail);
      return;
    }
    this.handleEvent(parsed.value);
  }

  /** The socket closed: the caller is gone (or was transferred). */
  handleClose(): void {
    if (this.ended) return;
    const reason: LegEndReason = this.transferred ? 'transferred' : 'caller_hangup';
    this.finish(reason);
    this.emit({ type: 'hangup', reason });
  }

  async playAudio(samples: Int16Array, sampleRate: number, opts: PlayOptions): Promise<void> {
    if (this.ended) return;
    const completed = await this.playout.play(opts.id, samples, sampleRate);
    if (completed && !this.ended) this.emit({ type: 'playback_done', id: opts.id });
  }

  async sendText(_text: string): Promise<void> {
    // A voice leg has no screen: the text is spoken through playAudio instead.
  }

  async stopAudio(): Promise<void> {
    if (this.ended) return;
    if (this.playout.stop()) {
      this.send(killAudioMessage);
      this.stats.killAudioSent++;
    }
  }

  forward(target: string, opts: { timeoutMs?: number } = {}): Promise<ForwardResult> {
    if (this.ended) return Promise.resolve({ status: 'failed', reason: 'the call has ended' });
    this.pendingForward?.({ status: 'failed', reason: 'superseded by a newer transfer' });
    const timeoutMs = opts.timeoutMs ?? this.forwardTimeoutMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingForward = null;
        resolve({ status: 'failed', reason: `no transfer result from telephony within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pendingForward = (result) => {
        clearTimeout(timer);
        this.pendingForward = null;
        // Once bridged elsewhere, FreeSWITCH stops the fork: that close is a transfer, not a hang-up.
        if (result.status === 'answered') this.transferred = true;
        resolve(result);
      };
      this.send(transferMessage(target));
    });
  }

  async hangup(reason: LegEndReason = 'bot_hangup'): Promise<void> {
    if (this.ended) return;
    this.send(disconnectMessage);
    this.finish(reason);
    this.ws.close(1000, reason);
  }

  /**
   * The session behind this leg failed: close the socket (1011) without asking FreeSWITCH to hang up, so
   * telephony sees the bot gone and takes the caller to the operator queue or a recorded message instead of
   * leaving them in silence.
   */
  fail(why: string): void {
    if (this.ended) return;
    this.finish('failed');
    // A close reason is at most 123 bytes.
    this.ws.close(1011, Buffer.from(`voice bot session failed: ${why}`).subarray(0, 123).toString());
    this.emit({ type: 'hangup', reason: 'failed' });
  }

  private handleEvent(event: InboundEvent): void {
    switch (event.kind) {
      case 'dtmf':
        this.stats.dtmf++;
        this.emit(
          event.durationMs === undefined
            ? { type: 'dtmf', digit: event.digit }
            : { type: 'dtmf', digit: event.digit, durationMs: event.durationMs },
        );
        return;
      case 'transferResult':
        if (!this.pendingForward) {
          this.countMalformed('unknown_type', 'transferResult without a pending transfer');
          return;
        }
        this.pendingForward(
          event.status === 'failed'
            ? { status: 'failed', reason: event.reason ?? 'telephony failed' }
            : { status: event.status },
        );
        return;
      case 'transcript':
        if (event.final) this.emit({ type: 'text', text: event.text });
        return;
      case 'hangup':
        this.ws.close(1000, 'caller hangup');
        this.handleClose();
        return;
      case 'hold':
        this.emit({ type: 'hold', held: event.held });
        return;
    }
  }

  private finish(reason: LegEndReason): void {
    this.endReason = reason;
    this.playout.stop();
    this.pendingForward?.({ status: 'failed', reason: 'the call has ended' });
  }

  private keepForLater(event: CallLegEvent): void {
    if (event.type === 'audio') {
      this.backlog.push(event);
      this.backlogAudio += event.samples.length;
      while (this.backlogAudio > this.backlogAudioLimit) {
        const oldest = this.backlog.findIndex((e) => e.type === 'audio');
        const [dropped] = this.backlog.splice(oldest, 1);
        if (dropped?.type === 'audio') this.backlogAudio -= dropped.samples.length;
        this.countDropped('audioFrames');
      }
      return;
    }
    if (event.type === 'dtmf' || event.type === 'text') {
      if (this.backlogInputs >= BACKLOG_INPUTS) {
        this.countDropped('inputs');
        return;
      }
      this.backlogInputs++;
    }
    // Control events (hangup, playback_done) are never dropped.
    this.backlog.push(event);
  }

  private countDropped(kind: 'audioFrames' | 'inputs'): void {
    const first = this.droppedBeforeSubscribe.audioFrames + this.droppedBeforeSubscribe.inputs === 0;
    this.droppedBeforeSubscribe[kind]++;
    if (first) {
      this.log.warn(
        {
          callId: this.meta.callId,
          keptAudioMs: (this.backlogAudioLimit * 1000) / this.sampleRate,
          keptInputs: BACKLOG_INPUTS,
        },
        'media leg: no session listens yet; the oldest caller audio (or keys beyond the limit) is dropped',
      );
    }
  }

  private countMalformed(problem: Malformation, detail: string): void {
    this.stats.malformed[problem]++;
    this.log.debug({ callId: this.meta.callId, problem, detail }, 'malformed media frame ignored');
  }

  private send(message: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(message);
  }

  private emit(event: CallLegEvent): void {
    if (this.listeners.size === 0) {
      this.keepForLater(event);
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err, callId: this.meta.callId }, 'call leg listener failed');
      }
    }
  }
}
