// Runs programs for process.ts in a worker thread. Starting a child process forks the whole Node process,
// which blocks the calling thread for milliseconds per MB of memory; doing it here keeps the main thread
// (media frames, VAD) running while espeak-ng is started. Plain JavaScript so that no TypeScript loader
// is needed inside the worker.
import { spawn } from 'node:child_process';
import { parentPort } from 'node:worker_threads';

const children = new Map();

parentPort.on('message', (msg) => {
  if (msg.type === 'kill') {
    children.get(msg.id)?.kill('SIGKILL');
    return;
  }
  const { id, command, args, input } = msg;
  const out = [];
  const err = [];
  let child;
  try {
    child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e?.message ?? e) });
    return;
  }
  children.set(id, child);
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  child.on('error', (e) => {
    children.delete(id);
    parentPort.postMessage({ id, error: e.message });
  });
  child.on('close', (code, signal) => {
    if (!children.delete(id)) return;
    const stdout = Buffer.concat(out);
    const bytes = new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength).slice();
    parentPort.postMessage({ id, code, signal, stdout: bytes, stderr: Buffer.concat(err).toString('utf8') }, [
      bytes.buffer,
    ]);
  });
  child.stdin.on('error', () => undefined);
  child.stdin.end(input ?? '');
});
