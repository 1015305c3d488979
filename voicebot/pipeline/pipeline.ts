/**
 * A session's pipeline: frame processors linked in order (media in → VAD → ASR → NLU → policy → TTS →
 * media out). How it works, in brief:
 *
 * - Each processor has its own queue and handles one frame at a time, so a slow processor (TTS) never
 *   blocks the ones before it. Control frames (`isControl`: Interrupt, Hangup, Error, Escalate) are put
 *   before every queued data frame; an Interrupt also drops queued bot speech that allows barge-in
 *   (`BotSay` with bargeIn, and `AudioOut`), because that speech must not be heard any more.
 * - A processor that lists `kinds` sees only frames of those kinds; every other frame passes on to the
 *   next processor untouched (still in order). A processor without `kinds` sees everything and passes on
 *   what it does not consume by calling `push(frame)` itself.
 * - Directions: frames normally travel downstream (toward media out). A processor may send a frame
 *   upstream with `ctx.pushUpstream(frame)` (e.g. the output reports BotSayDone back to the policy);
 *   upstream frames visit the earlier processors in reverse order, with the same `kinds` filter, and
 *   `push` inside `process` continues in the direction the frame was travelling.
 *   What leaves the last processor downstream goes to `onOutput`; what leaves the first upstream goes to
 *   `onUpstreamOutput`. Frames can also be injected at a processor by name (`pushTo`) — the text channel
 *   enters at the NLU with Transcript frames, the voice channel at the head with AudioIn.
 * - `onControl(frame)` is called synchronously as soon as a control frame is queued for a processor, even
 *   while it is busy with an earlier frame: a long TTS synthesis can abort on Interrupt at once.
 * - A processor that throws does not crash the session: the error becomes an Error frame pushed
 *   downstream from that processor (the policy decides: fallback prompt, operator queue, goodbye).
 */
import type { Logger } from '../../core/log.js';
import { silentLogger } from '../../core/log.js';
import { describeFrame, type Frame, type FrameKind, type FrameOf, isControl, makeFrame } from './frames.js';

export type Direction = 'downstream' | 'upstream';

export interface ProcessContext {
  /** The direction the current frame travels. */
  direction: Direction;
  pushDownstream(frame: Frame): void;
  pushUpstream(frame: Frame): void;
  /** Milliseconds since the session started (the session clock). */
  now(): number;
}

export interface FrameProcessor {
  readonly name: string;
  /** Frame kinds this processor handles; others pass on. Omit to see every frame. */
  readonly kinds?: readonly FrameKind[];
  /** Handles one frame; `push` sends frames on in the current direction. */
  process(frame: Frame, push: (frame: Frame) => void, ctx: ProcessContext): Promise<void> | void;
  /** Called at once when a control frame is queued for this processor (to abort long work). */
  onControl?(frame: Frame): void;
  start?(ctx: ProcessContext): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export interface PipelineOptions {
  /** Milliseconds since the session started. Default: real time since construction. */
  now?: () => number;
  onOutput?: (frame: Frame) => void;
  onUpstreamOutput?: (frame: Frame) => void;
  log?: Logger;
}

interface Queued {
  frame: Frame;
  direction: Direction;
}

class Stage {
  readonly queue: Queued[] = [];
  busy = false;
  readonly accepts: (frame: Frame) => boolean;

  constructor(readonly processor: FrameProcessor) {
    const kinds = processor.kinds ? new Set(processor.kinds) : null;
    this.accepts = kinds ? (f) => kinds.has(f.kind) : () => true;
  }

  enqueue(item: Queued): void {
    if (!isControl(item.frame)) {
      this.queue.push(item);
      return;
    }
    if (item.frame.kind === 'Interrupt') {
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const f = this.queue[i]!.frame;
        if (f.kind === 'AudioOut' || (f.kind === 'BotSay' && f.bargeIn)) this.queue.splice(i, 1);
      }
    }
    const firstData = this.queue.findIndex((q) => !isControl(q.frame));
    this.queue.splice(firstData === -1 ? this.queue.length : firstData, 0, item);
  }
}

export class Pipeline {
  private readonly stages: Stage[];
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly idleWaiters: Array<() => void> = [];
  private running = 0;
  private stopped = false;

  constructor(
    processors: FrameProcessor[],
    private readonly opts: PipelineOptions = {},
  ) {
    const names = new Set<string>();
    for (const p of processors) {
      if (names.has(p.name)) throw new Error(`duplicate processor name: ${p.name}`);
      names.add(p.name);
    }
    this.stages = processors.map((p) => new Stage(p));
    const t0 = Date.now();
    this.now = opts.now ?? (() => Date.now() - t0);
    this.log = opts.log ?? silentLogger;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.stages.length; i++)
      await this.stages[i]!.processor.start?.(this.contextFor(i, 'downstream'));
  }

  /** Enters a frame at the head of the pipeline. */
  push(frame: Frame): void {
    this.deliver(0, { frame, direction: 'downstream' });
  }

  /** Enters a frame at the named processor (it is the first to see it), travelling downstream. */
  pushTo(name: string, frame: Frame): void {
    const index = this.stages.findIndex((s) => s.processor.name === name);
    if (index === -1) throw new Error(`no processor named ${name}`);
    this.deliver(index, { frame, direction: 'downstream' });
  }

  /** Builds a frame stamped with the session clock. */
  frame<K extends FrameKind>(kind: K, fields: Omit<FrameOf<K>, 'kind' | 'atMs'>): FrameOf<K> {
    return makeFrame(kind, fields, this.now());
  }

  /** Resolves when no processor has work queued or in progress. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const stage of this.stages) {
      stage.queue.length = 0;
      try {
        await stage.processor.stop?.();
      } catch (err) {
        this.log.warn({ err, processor: stage.processor.name }, 'processor failed to stop cleanly');
      }
    }
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.running === 0 && this.stages.every((s) => s.queue.length === 0 && !s.busy);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private contextFor(index: number, direction: Direction): ProcessContext {
    return {
      direction,
      now: this.now,
      pushDownstream: (f) => this.deliver(index + 1, { frame: f, direction: 'downstream' }),
      pushUpstream: (f) => this.deliver(index - 1, { frame: f, direction: 'upstream' }),
    };
  }

  /** Hands a frame to the stage at `index`, or to the pipeline's outputs past either end. */
  private deliver(index: number, item: Queued): void {
    if (this.stopped) return;
    if (index >= this.stages.length) {
      this.emit(this.opts.onOutput, item.frame);
      return;
    }
    if (index < 0) {
      this.emit(this.opts.onUpstreamOutput, item.frame);
      return;
    }
    const stage = this.stages[index]!;
    stage.enqueue(item);
    if (isControl(item.frame) && stage.accepts(item.frame)) {
      try {
        stage.processor.onControl?.(item.frame);
      } catch (err) {
        this.log.warn({ err, processor: stage.processor.name }, 'onControl failed');
      }
    }
    if (!stage.busy) void this.drain(index);
  }

  private emit(sink: ((frame: Frame) => void) | undefined, frame: Frame): void {
    if (!sink) return;
    try {
      sink(frame);
    } catch (err) {
      this.log.error({ err, frame: describeFrame(frame) }, 'pipeline output handler failed');
    }
  }

  private async drain(index: number): Promise<void> {
    const stage = this.stages[index]!;
    stage.busy = true;
    this.running++;
    try {
      while (stage.queue.length > 0 && !this.stopped) {
        const item = stage.queue.shift()!;
        const next = item.direction === 'downstream' ? index + 1 : index - 1;
        if (!stage.accepts(item.frame)) {
          this.deliver(next, item);
          continue;
        }
        const ctx = this.contextFor(index, item.direction);
        const push = (f: Frame) => this.deliver(next, { frame: f, direction: item.direction });
        try {
          await stage.processor.process(item.frame, push, ctx);
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          this.log.error(
            { err: error, processor: stage.processor.name, frame: describeFrame(item.frame) },
            'processor failed',
          );
          if (item.frame.kind !== 'Error') {
            this.deliver(index + 1, {
              frame: makeFrame(
                'Error',
                { error, source: stage.processor.name, recoverable: true },
                this.now(),
              ),
              direction: 'downstream',
            });
          }
        }
      }
    } finally {
      stage.busy = false;
      this.running--;
      this.notifyIdle();
    }
  }
}
