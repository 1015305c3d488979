import type * as grpc from '@grpc/grpc-js';
import { OtklikError } from '../../core/errors.js';
import { fromServiceError } from './errors.js';
import type { RecognizeConfigMsg, RecognizeRequestMsg, RecognizeResponseMsg } from './proto.js';

/**
 * Client side of one StreamingRecognize call, turned back into request/response: every audio chunk and
 * finish carries a seq, and the server answers each with the same seq, so `push()` can await exactly the
 * events its own audio produced, as an in-process stream would.
 */
export class RecognizeCall {
  private readonly pending = new Map<
    number,
    { resolve: (m: RecognizeResponseMsg) => void; reject: (e: OtklikError) => void; timer: NodeJS.Timeout }
  >();
  private nextSeq = 1;
  private failure: OtklikError | undefined;
  private closed = false;

  constructor(
    private readonly call: grpc.ClientDuplexStream<RecognizeRequestMsg, RecognizeResponseMsg>,
    private readonly timeoutMs: number,
  ) {
    call.on('data', (msg: RecognizeResponseMsg) => {
      const waiter = this.pending.get(msg.seq);
      if (!waiter) return;
      this.pending.delete(msg.seq);
      clearTimeout(waiter.timer);
      waiter.resolve(msg);
    });
    call.on('error', (err) => this.failAll(fromServiceError(err, 'StreamingRecognize')));
    call.on('end', () =>
      this.failAll(
        new OtklikError('UNAVAILABLE', 'the speech service ended the stream', { retryable: true }),
      ),
    );
  }

  /** Sends the config and resolves when the server has its engines ready (or rejects with why not). */
  start(config: Partial<RecognizeConfigMsg>): Promise<RecognizeResponseMsg> {
    return this.send(0, { config: config as RecognizeConfigMsg });
  }

  audio(pcm16: Buffer): Promise<RecognizeResponseMsg> {
    const seq = this.nextSeq++;
    return this.send(seq, { audio: { seq, pcm16 } });
  }

  finish(): Promise<RecognizeResponseMsg> {
    const seq = this.nextSeq++;
    return this.send(seq, { finish: { seq } });
  }

  /** Half-closes politely: the server frees its engines and ends the call. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.call.end();
  }

  /** Abandons the call at once (the server sees a cancellation and frees its engines). */
  cancel(): void {
    this.closed = true;
    this.failAll(new OtklikError('CANCELLED', 'the recognition stream was closed'));
    this.call.cancel();
  }

  private send(seq: number, msg: RecognizeRequestMsg): Promise<RecognizeResponseMsg> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new OtklikError('CANCELLED', 'the recognition stream was closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        const err = new OtklikError(
          'TIMEOUT',
          `the speech service did not answer within ${this.timeoutMs} ms`,
          {
            retryable: true,
          },
        );
        reject(err);
        this.failAll(err);
        this.call.cancel();
      }, this.timeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
      this.call.write(msg);
    });
  }

  private failAll(err: OtklikError): void {
    this.failure ??= err;
    for (const [seq, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(this.failure);
      this.pending.delete(seq);
    }
  }
}
