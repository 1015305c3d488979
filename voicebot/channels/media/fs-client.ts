/**
 * A FreeSWITCH stand-in for tests, the voice simulator and benchmarks: it connects to the media socket as
 * mod_audio_fork does (same subprotocol, metadata first, 20 ms L16 frames), sends DTMF as jambonz's
 * listen verb does, and plays out the bot's playAudio chunks on a simulated clock so that what the caller
 * would have heard can be measured: `heard()` is the audio played before any killAudio cut it.
 *
 * `speed` runs the caller's audio and the play-out clock faster than real time (the media socket must be
 * started with the same playout speed); 1 is real time.
 */
import WebSocket from 'ws';
import { OtklikError } from '../../../core/errors.js';
import { signForkMetadata } from '../../../media/fork-auth.js';
import { AUDIO_FORK_SUBPROTOCOL, encodeL16 } from './protocol.js';

export interface FsClientOptions {
  url: string;
  /** The media socket's secret: the metadata is signed with it as telephony signs it. */
  secret: string;
  metadata?: Record<string, unknown>;
  sampleRate?: 8000 | 16000;
  speed?: number;
  /** Frames sent before the metadata (malformed-input tests). */
  beforeMetadata?: Array<string | Buffer>;
  /** How the simulated telephony side answers a transfer request; 'none' sends no reply. */
  transferReply?: 'answered' | 'busy' | 'no_answer' | 'failed' | 'none';
  /** For a wss:// socket: the CA (PEM) to trust for its certificate, as mod_audio_fork is given one. */
  ca?: Buffer;
}

export type ReceivedEvent =
  | { type: 'playAudio'; atMs: number; samples: Int16Array; sampleRate: number }
  | { type: 'killAudio'; atMs: number; droppedSamples: number }
  | { type: 'transfer'; atMs: number; target: string }
  | { type: 'disconnect'; atMs: number }
  | { type: 'other'; atMs: number; text: string };

const FRAME_MS = 20;

export class FsClient {
  readonly sampleRate: 8000 | 16000;
  readonly speed: number;
  readonly events: ReceivedEvent[] = [];
  /** Caller audio samples and DTMF keys sent so far. */
  sentSamples = 0;
  sentDtmf = 0;
  private readonly startedAt = Date.now();
  private readonly queue: Int16Array[] = [];
  private readonly heardChunks: Int16Array[] = [];
  private lastAdvance = Date.now();
  private lastAudioAt = 0;
  /** Wall time at which the play-out queue last ran empty. */
  private playedOutAt = 0;
  /** Fractional samples of play-out time not yet consumed. */
  private carry = 0;
  private readonly closedPromise: Promise<void>;
  private isClosed = false;
  /** The WebSocket close code and reason, once closed (1011: the bot's session failed). */
  closeCode: number | null = null;
  closeReason = '';

  private constructor(
    private readonly ws: WebSocket,
    opts: FsClientOptions,
  ) {
    this.sampleRate = opts.sampleRate ?? 8000;
    this.speed = opts.speed && opts.speed > 0 ? opts.speed : 1;
    const transferReply = opts.transferReply ?? 'answered';
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.handleText(String(data), transferReply);
    });
    this.closedPromise = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.isClosed = true;
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
  }

  static async connect(opts: FsClientOptions): Promise<FsClient> {
    const ws = new WebSocket(opts.url, AUDIO_FORK_SUBPROTOCOL, opts.ca ? { ca: opts.ca } : {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) =>
        reject(
          new OtklikError('UNAVAILABLE', `cannot reach the media socket ${opts.url}: ${err.message}`, {
            cause: err,
          }),
        ),
      );
    });
    const client = new FsClient(ws, opts);
    for (const frame of opts.beforeMetadata ?? []) client.sendRaw(frame);
    const metadata = { sampleRate: client.sampleRate, mixType: 'mono', ...(opts.metadata ?? {}) };
    ws.send(JSON.stringify(signForkMetadata(metadata, opts.secret)));
    return client;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Resolves when the socket has closed (the bot hung up or we did). */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /**
   * Streams caller audio (at this client's rate) as 20 ms frames, paced by the client's `speed` or the
   * one given (Infinity: no pacing).
   */
  async sendAudio(samples: Int16Array, opts: { signal?: AbortSignal; speed?: number } = {}): Promise<void> {
    const perFrame = (this.sampleRate * FRAME_MS) / 1000;
    const frameWallMs = FRAME_MS / (opts.speed ?? this.speed);
    const t0 = Date.now();
    let sent = 0;
    for (let i = 0; i < samples.length && !this.isClosed && !opts.signal?.aborted; i += perFrame) {
      const frame = samples.subarray(i, i + perFrame);
      this.ws.send(encodeL16(frame));
      this.sentSamples += frame.length;
      sent++;
      const dueAt = t0 + sent * frameWallMs;
      const wait = dueAt - Date.now();
      if (wait >= 1) await sleep(wait);
      else if (sent % 25 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  sendSilence(ms: number, opts: { signal?: AbortSignal; speed?: number } = {}): Promise<void> {
    return this.sendAudio(new Int16Array(Math.round((this.sampleRate * ms) / 1000)), opts);
  }

  /** Sends each key as a DTMF event (jambonz listen verb format). */
  sendDtmf(digits: string, durationMs = 100): void {
    for (const digit of digits) {
      this.ws.send(JSON.stringify({ event: 'dtmf', dtmf: digit, duration: durationMs }));
      this.sentDtmf++;
    }
  }

  /** Sends the caller's turn as text recognized on the telephony side (protocol extension). */
  sendTranscript(text: string): void {
    this.ws.send(JSON.stringify({ type: 'transcript', data: { text, final: true } }));
  }

  /** Sends anything, for malformed-input tests. */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data, { binary: Buffer.isBuffer(data) });
  }

  /** The caller hangs up: FreeSWITCH stops the fork and the socket closes. */
  async hangup(): Promise<void> {
    if (!this.isClosed) this.ws.close(1000, 'caller hangup');
    await this.closedPromise;
  }

  /** Audio the caller has heard so far (played out before being cut). */
  heard(): Int16Array {
    this.advance();
    return concat(this.heardChunks);
  }

  heardMs(): number {
    this.advance();
    return (this.heardChunks.reduce((n, c) => n + c.length, 0) * 1000) / this.sampleRate;
  }

  /** All audio the bot sent, whether or not it was played out. */
  receivedAudio(): Int16Array {
    return concat(this.events.flatMap((e) => (e.type === 'playAudio' ? [e.samples] : [])));
  }

  /** True while received bot audio is still waiting to be played out. */
  get playing(): boolean {
    this.advance();
    return this.queue.length > 0;
  }

  count(type: ReceivedEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }

  /** Milliseconds since connecting, in wall-clock time. */
  now(): number {
    return Date.now() - this.startedAt;
  }

  /** Waits until the bot has been silent (nothing playing, nothing new) for `quietMs` of wall time. */
  async waitUntilQuiet(quietMs: number, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.isClosed) {
      const playing = this.playing;
      const quietFor = Date.now() - Math.max(this.lastAudioAt, this.playedOutAt);
      if (!playing && quietFor >= quietMs) return;
      await sleep(Math.min(20, Math.max(1, quietMs - quietFor)));
    }
  }

  /** Waits until a received event matches, or the timeout passes (returns undefined then). */
  async waitFor(
    predicate: (e: ReceivedEvent) => boolean,
    timeoutMs = 15000,
  ): Promise<ReceivedEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found || Date.now() >= deadline || this.isClosed) return found;
      await sleep(5);
    }
  }

  /** Plays out what the simulated clock says has been played since the last call. */
  private advance(): void {
    const now = Date.now();
    const exact = ((now - this.lastAdvance) * this.speed * this.sampleRate) / 1000 + this.carry;
    let budget = Math.floor(exact);
    this.carry = this.queue.length > 0 ? exact - budget : 0;
    const from = this.lastAdvance;
    const full = budget;
    this.lastAdvance = now;
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.length <= budget) {
        this.heardChunks.push(head);
        this.queue.shift();
        budget -= head.length;
      } else {
        this.heardChunks.push(head.subarray(0, budget));
        this.queue[0] = head.subarray(budget);
        budget = 0;
      }
      if (this.queue.length === 0) {
        // The moment the last sample played, on the wall clock.
        this.playedOutAt = from + ((full - budget) * 1000) / this.sampleRate / this.speed;
      }
    }
  }

  private handleText(text: string, transferReply: NonNullable<FsClientOptions['transferReply']>): void {
    const atMs = this.now();
    let msg: { type?: string; data?: Record<string, unknown> };
    try {
      msg = JSON.parse(text);
    } catch {
      this.events.push({ type: 'other', atMs, text });
      return;
    }
    if (msg.type === 'playAudio' && msg.data) {
      const rate = Number(msg.data.sampleRate);
      const bytes = Buffer.from(String(msg.data.audioContent ?? ''), 'base64');
      const samples = new Int16Array(bytes.length >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      this.advance();
      this.queue.push(samples);
      this.lastAudioAt = Date.now();
      this.events.push({ type: 'playAudio', atMs, samples, sampleRate: rate });
    } else if (msg.type === 'killAudio') {
      this.advance();
      const dropped = this.queue.reduce((n, c) => n + c.length, 0);
      this.queue.length = 0;
      this.events.push({ type: 'killAudio', atMs, droppedSamples: dropped });
    } else if (msg.type === 'transfer') {
      this.events.push({ type: 'transfer', atMs, target: String(msg.data?.target ?? '') });
      if (transferReply !== 'none') {
        this.ws.send(JSON.stringify({ type: 'transferResult', data: { status: transferReply } }));
      }
    } else if (msg.type === 'disconnect') {
      this.events.push({ type: 'disconnect', atMs });
    } else {
      this.events.push({ type: 'other', atMs, text });
    }
  }
}

function concat(chunks: Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
