import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtklikError } from '../../core/errors.js';
import { readWav } from '../../media/audio/wav.js';
import type { EngineState, PcmAudio, TtsChunk, TtsEngine, TtsOptions, TtsVoice } from '../types.js';
import { findExecutable } from './process.js';
import { streamSentences } from './streaming.js';

/**
 * Festival with the festvox-ru voice msu_ru_nsh_clunits (Debian packages festival, festvox-ru): a recorded
 * male voice, more natural than espeak-ng. Starting Festival and loading the voice takes ~0.4 s, so a few
 * `festival --pipe` processes are kept running and fed Scheme commands, one sentence at a time each.
 *
 * Festival's Russian front end wants UTF-8 text (KOI8-R input fails the letter-to-sound rules), lower case
 * letters, and a space after every full stop («МФЦ.Тест» fails); prepareFestivalText() sees to that.
 * The clunits voice plays recorded units at their own speed (Duration_Stretch has no effect), so
 * TtsOptions.rate is ignored, and TtsOptions.voice too: the voice is chosen when the engine is created.
 */

export interface FestivalOptions {
  binary?: string;
  voice?: string;
  /** Festival processes kept running (each synthesizes one sentence at a time). */
  workers?: number;
  timeoutMs?: number;
  voiceDirs?: string[];
}

export const FESTIVAL_SAMPLE_RATE = 16000;
const DEFAULT_VOICE = 'msu_ru_nsh_clunits';
const VOICE_DIRS = [
  '/usr/share/festival/voices/russian',
  '/usr/local/share/festival/voices/russian',
  '/usr/lib/festival/voices/russian',
];

/** Text Festival's Russian voice can read: lower-case Cyrillic, basic punctuation, a space after each mark. */
export function prepareFestivalText(text: string): string {
  return `${text
    .toLowerCase()
    .replace(/[^\p{L}\d\s.,!?;:-]/gu, ' ')
    .replace(/([.,!?;:])(?=\S)/g, '$1 ')
    .replace(/\s+/g, ' ')
    .trim()} `;
}

interface Job {
  text: string;
  signal: AbortSignal;
  resolve: (audio: PcmAudio) => void;
  reject: (err: unknown) => void;
}

class FestivalWorker {
  private child: ChildProcessWithoutNullStreams | null = null;
  private stderr = '';
  private counter = 0;
  private waiting: { marker: string; done: () => void } | null = null;
  busy = false;

  constructor(
    private readonly binary: string,
    private readonly voice: string,
    private readonly dir: string,
    private readonly id: number,
  ) {}

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(this.binary, ['--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    // Festival block-buffers stdout on a pipe but not stderr, so the end-of-sentence marker goes to stderr.
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
      if (this.waiting && this.stderr.includes(this.waiting.marker)) {
        this.stderr = this.stderr.replace(this.waiting.marker, '');
        this.waiting.done();
      }
    });
    child.on('exit', () => {
      // A replaced (killed) process must not end the job of its successor.
      if (this.child !== child) return;
      this.child = null;
      this.waiting?.done();
    });
    child.on('error', () => undefined);
    child.stdin.on('error', () => undefined);
    // Idle workers must not keep the process alive.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr])
      (s as unknown as { unref?: () => void }).unref?.();
    child.stdin.write(`(${`voice_${this.voice}`})\n`);
    this.child = child;
    return child;
  }

  async synthesize(text: string, timeoutMs: number, signal: AbortSignal): Promise<PcmAudio> {
    const child = this.child ?? this.start();
    const n = ++this.counter;
    const path = join(this.dir, `w${this.id}-${n}.wav`);
    const marker = `OTKLIK-DONE ${this.id}-${n}`;
    this.stderr = '';
    const quoted = text.replace(/\\/g, ' ').replace(/"/g, ' ');
    const finished = new Promise<'done' | 'timeout' | 'aborted'>((resolve) => {
      const settle = (outcome: 'done' | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      const onAbort = () => settle('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting = { marker, done: () => settle('done') };
    });
    child.stdin.write(
      `(utt.save.wave (SynthText "${quoted}") "${path}" 'riff)\n(format stderr "${marker}\\n")\n`,
    );
    const outcome = await finished;
    this.waiting = null;
    if (outcome !== 'done' || this.child !== child) {
      // Festival cannot be interrupted mid-sentence: a stuck or cancelled worker is replaced.
      this.kill();
      await unlink(path).catch(() => undefined);
      if (outcome === 'aborted') throw new OtklikError('CANCELLED', 'festival: cancelled');
      if (outcome === 'timeout')
        throw new OtklikError('TIMEOUT', `festival took longer than ${timeoutMs} ms`, { retryable: true });
      throw new OtklikError('ENGINE_FAILED', `festival exited: ${this.stderr.trim().slice(0, 300)}`, {
        retryable: true,
      });
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      throw new OtklikError(
        'ENGINE_FAILED',
        `festival could not synthesize the text: ${this.stderr.trim().slice(0, 300) || 'no output'}`,
      );
    }
    await unlink(path).catch(() => undefined);
    return readWav(bytes, 'festival output');
  }

  kill(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}

export class FestivalTtsEngine implements TtsEngine {
  readonly name = 'festival';
  private readonly binary: string | null;
  private readonly voice: string;
  private readonly voiceDir: string | null;
  private readonly timeoutMs: number;
  private readonly workers: FestivalWorker[] = [];
  private readonly queue: Job[] = [];
  private tmpDir: string | null = null;
  private readonly maxWorkers: number;

  constructor(opts: FestivalOptions = {}) {
    this.binary = findExecutable(opts.binary ?? 'festival');
    this.voice = opts.voice ?? DEFAULT_VOICE;
    this.voiceDir =
      (opts.voiceDirs ?? VOICE_DIRS).map((d) => join(d, this.voice)).find((d) => existsSync(d)) ?? null;
    this.timeoutMs = opts.timeoutMs ?? 15000;
    this.maxWorkers = Math.max(1, opts.workers ?? 2);
  }

  state(): EngineState {
    if (!this.binary)
      return {
        status: 'model_missing',
        message: 'festival is not installed (apt-get install festival festvox-ru)',
      };
    if (!this.voiceDir) {
      return {
        status: 'model_missing',
        message: `Festival voice ${this.voice} is not installed (apt-get install festvox-ru)`,
      };
    }
    return { status: 'ready' };
  }

  async voices(): Promise<TtsVoice[]> {
    return [
      {
        id: this.voice,
        engine: this.name,
        language: 'ru',
        sampleRate: FESTIVAL_SAMPLE_RATE,
        available: this.state().status === 'ready',
      },
    ];
  }

  synthesize(text: string, opts: TtsOptions = {}): AsyncIterable<TtsChunk> {
    return streamSentences(text, opts, (sentence, signal) =>
      this.enqueue(prepareFestivalText(sentence), signal),
    );
  }

  /** Starts the Festival processes and loads the voice now, so that the first caller does not wait ~1 s. */
  async warm(): Promise<void> {
    const jobs = Array.from({ length: this.maxWorkers }, () =>
      this.enqueue(prepareFestivalText('да.'), new AbortController().signal),
    );
    await Promise.all(jobs);
  }

  /** Stops the Festival processes (they restart on the next request). */
  async close(): Promise<void> {
    for (const w of this.workers) w.kill();
    this.workers.length = 0;
    if (this.tmpDir) rmSync(this.tmpDir, { recursive: true, force: true });
    this.tmpDir = null;
  }

  private enqueue(text: string, signal: AbortSignal): Promise<PcmAudio> {
    const state = this.state();
    if (state.status !== 'ready') return Promise.reject(new OtklikError('MODEL_MISSING', state.message));
    return new Promise((resolve, reject) => {
      this.queue.push({ text, signal, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let worker = this.workers.find((w) => !w.busy);
      if (!worker && this.workers.length < this.maxWorkers) {
        this.tmpDir ??= mkdtempSync(join(tmpdir(), 'otklik-festival-'));
        worker = new FestivalWorker(this.binary!, this.voice, this.tmpDir, this.workers.length);
        this.workers.push(worker);
      }
      if (!worker) return;
      const job = this.queue.shift()!;
      if (job.signal.aborted) {
        job.reject(new OtklikError('CANCELLED', 'festival: cancelled'));
        continue;
      }
      const w = worker;
      w.busy = true;
      w.synthesize(job.text, this.timeoutMs, job.signal)
        .then(job.resolve, job.reject)
        .finally(() => {
          w.busy = false;
          this.pump();
        });
    }
  }
}
