import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OtklikError } from '../../core/errors.js';

/**
 * The full path of an executable on PATH, or null: engines report a missing binary without spawning it.
 * PATH is not an Otklik setting but the process's own search path, the one `spawn` would use: looking it up
 * here keeps the binary found and the binary run the same (tests pass their own).
 */
export function findExecutable(name: string, pathEnv = process.env.PATH ?? ''): string | null {
  if (name.includes('/')) {
    try {
      accessSync(name, constants.X_OK);
      return name;
    } catch {
      return null;
    }
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

type Exit =
  | { code: number | null; signal: string | null; stdout: Buffer; stderr: string }
  | { error: string };

interface Launched {
  done: Promise<Exit>;
  kill(): void;
}

/** Starts the program on this thread (used when the worker thread is not available). */
function launchHere(command: string, args: string[], input: string | Buffer): Launched {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const done = new Promise<Exit>((resolve) => {
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  return { done, kill: () => child.kill('SIGKILL') };
}

/**
 * Starting a child process forks this process, which blocks the starting thread for ~1 ms per 50 MB of
 * memory. A worker thread does it instead, so that the main thread keeps serving 20 ms media frames while
 * espeak-ng starts. One worker is shared; it does not keep the process alive.
 */
class SpawnWorker {
  private worker: Worker | null = null;
  private broken = false;
  private nextId = 0;
  private readonly waiting = new Map<number, (exit: Exit) => void>();

  launch(command: string, args: string[], input: string | Buffer): Launched | null {
    const worker = this.ensure();
    if (!worker) return null;
    const id = ++this.nextId;
    const done = new Promise<Exit>((resolve) => this.waiting.set(id, resolve));
    if (this.waiting.size === 1) worker.ref();
    worker.postMessage({
      id,
      command,
      args,
      input: typeof input === 'string' ? input : new Uint8Array(input),
    });
    return { done, kill: () => worker.postMessage({ type: 'kill', id }) };
  }

  private ensure(): Worker | null {
    if (this.worker || this.broken) return this.worker;
    try {
      const worker = new Worker(new URL('./process-worker.mjs', import.meta.url));
      worker.unref();
      worker.on(
        'message',
        (msg: {
          id: number;
          error?: string;
          code?: number | null;
          signal?: string | null;
          stdout?: Uint8Array;
          stderr?: string;
        }) => {
          const resolve = this.waiting.get(msg.id);
          if (!resolve) return;
          this.waiting.delete(msg.id);
          if (this.waiting.size === 0) worker.unref();
          if (msg.error !== undefined) resolve({ error: msg.error });
          else {
            const stdout = Buffer.from(msg.stdout!.buffer, msg.stdout!.byteOffset, msg.stdout!.byteLength);
            resolve({ code: msg.code ?? null, signal: msg.signal ?? null, stdout, stderr: msg.stderr ?? '' });
          }
        },
      );
      const fail = (why: string) => {
        // Jobs in flight are reported as failed (the engine falls back or retries); new ones run here.
        this.broken = true;
        this.worker = null;
        for (const resolve of this.waiting.values()) resolve({ error: `process worker stopped: ${why}` });
        this.waiting.clear();
      };
      worker.on('error', (e) => fail(e.message));
      worker.on('exit', (code) => fail(`exit ${code}`));
      this.worker = worker;
    } catch {
      this.broken = true;
    }
    return this.worker;
  }
}

const spawnWorker = new SpawnWorker();

/**
 * Runs a program with `input` on stdin and collects stdout. Rejects with ENGINE_FAILED (retryable) on a
 * non-zero exit, TIMEOUT after timeoutMs, CANCELLED when the signal aborts; the child is killed in each case.
 */
export function runProgram(
  command: string,
  args: string[],
  opts: {
    input?: string | Buffer;
    timeoutMs?: number;
    signal?: AbortSignal | undefined;
    inThread?: boolean;
  } = {},
): Promise<RunResult> {
  if (opts.signal?.aborted) return Promise.reject(new OtklikError('CANCELLED', `${command}: cancelled`));
  const input = opts.input ?? '';
  const launched =
    (!opts.inThread && spawnWorker.launch(command, args, input)) || launchHere(command, args, input);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: OtklikError | null, result?: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (error) {
        launched.kill();
        reject(error);
      } else resolve(result!);
    };
    const onAbort = () => finish(new OtklikError('CANCELLED', `${command}: cancelled`));
    const timeoutMs = opts.timeoutMs ?? 30000;
    const timer = setTimeout(
      () =>
        finish(
          new OtklikError('TIMEOUT', `${command} took longer than ${timeoutMs} ms`, { retryable: true }),
        ),
      timeoutMs,
    );
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    launched.done.then((exit) => {
      if ('error' in exit) {
        finish(
          new OtklikError('ENGINE_FAILED', `${command} cannot be started: ${exit.error}`, {
            retryable: true,
          }),
        );
      } else if (exit.code === 0) {
        finish(null, { stdout: exit.stdout, stderr: exit.stderr });
      } else {
        const stderr = exit.stderr.trim().slice(0, 500);
        const message = `${command} exited with ${exit.code ?? exit.signal}${stderr ? `: ${stderr}` : ''}`;
        finish(new OtklikError('ENGINE_FAILED', message, { retryable: true }));
      }
    });
  });
}
