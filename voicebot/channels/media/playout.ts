/**
 * Paces the bot's audio toward FreeSWITCH. mod_audio_fork queues every playAudio it gets, so sending a
 * whole answer at once would leave nothing to take back on barge-in. We keep only `leadMs` of audio
 * queued ahead of the estimated play-out position and send the rest in `chunkMs` pieces as it drains;
 * `stop()` drops what was not sent yet, and the caller hears at most `leadMs` more (killAudio cuts that).
 *
 * `speed` scales the play-out clock for faster-than-real-time simulations (the fs-client plays out at
 * the same speed); 1 is real time.
 */

export interface PlayoutOptions {
  chunkMs?: number;
  leadMs?: number;
  speed?: number;
}

export interface PlayoutSink {
  sendChunk(samples: Int16Array, sampleRate: number): void;
}

interface PendingPlay {
  id: string;
  chunks: Int16Array[];
  sampleRate: number;
  resolve: (completed: boolean) => void;
}

export class Playout {
  private readonly chunkMs: number;
  private readonly leadMs: number;
  private readonly speed: number;
  private readonly pending: PendingPlay[] = [];
  /** Wall-clock time at which everything sent so far has been played. */
  private playoutEndsAt = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private readonly completionTimers = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  chunksSent = 0;

  constructor(
    private readonly sink: PlayoutSink,
    opts: PlayoutOptions = {},
  ) {
    this.chunkMs = opts.chunkMs ?? 100;
    this.leadMs = opts.leadMs ?? 300;
    this.speed = opts.speed && opts.speed > 0 ? opts.speed : 1;
  }

  /** Queues audio; resolves true when it has been played out, false when stopped first. */
  play(id: string, samples: Int16Array, sampleRate: number): Promise<boolean> {
    const perChunk = Math.max(1, Math.round((sampleRate * this.chunkMs) / 1000));
    const chunks: Int16Array[] = [];
    for (let i = 0; i < samples.length; i += perChunk) chunks.push(samples.subarray(i, i + perChunk));
    // Empty audio is queued too: it resolves once everything queued before it has been played.
    return new Promise((resolve) => {
      this.pending.push({ id, chunks, sampleRate, resolve });
      this.pump();
    });
  }

  /** True while audio is queued here or still playing on the far side. */
  get active(): boolean {
    return this.pending.length > 0 || this.playoutEndsAt > Date.now();
  }

  /** Drops everything not yet sent; returns whether anything was queued or playing. */
  stop(): boolean {
    const wasActive = this.active || this.completionTimers.size > 0;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    for (const play of this.pending.splice(0)) play.resolve(false);
    for (const [timer, resolve] of this.completionTimers) {
      clearTimeout(timer);
      resolve(false);
    }
    this.completionTimers.clear();
    this.playoutEndsAt = 0;
    return wasActive;
  }

  private queuedAheadMs(now: number): number {
    return Math.max(0, this.playoutEndsAt - now) * this.speed;
  }

  private pump(): void {
    this.pumpTimer = null;
    let now = Date.now();
    while (this.pending.length > 0) {
      const play = this.pending[0]!;
      if (play.chunks.length === 0) {
        this.pending.shift();
        this.scheduleCompletion(play, this.playoutEndsAt - now);
        continue;
      }
      if (this.queuedAheadMs(now) >= this.leadMs) break;
      const chunk = play.chunks.shift()!;
      this.sink.sendChunk(chunk, play.sampleRate);
      this.chunksSent++;
      const chunkWallMs = (chunk.length * 1000) / play.sampleRate / this.speed;
      this.playoutEndsAt = Math.max(this.playoutEndsAt, now) + chunkWallMs;
      now = Date.now();
    }
    if (this.pending.length > 0) {
      const waitMs = Math.max(1, (this.queuedAheadMs(now) - this.leadMs) / this.speed + 1);
      this.pumpTimer = setTimeout(() => this.pump(), waitMs);
    }
  }

  private scheduleCompletion(play: PendingPlay, delayMs: number): void {
    const timer = setTimeout(
      () => {
        this.completionTimers.delete(timer);
        play.resolve(true);
      },
      Math.max(0, delayMs),
    );
    this.completionTimers.set(timer, play.resolve);
  }
}
