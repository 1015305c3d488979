import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** A real `otklik serve` child process, as a user starts it. */
export interface ServeProcess {
  child: ChildProcess;
  /** The staff UI's base URL, as the start-up line printed it. */
  base: string;
  /** Resolves with the exit code (137 for a SIGKILL). */
  exited: Promise<number | null>;
  stderr(): string;
  /** What it logged (pino, JSON lines). */
  stdout(): string;
}

/** The environment of an instance on the embedded store in `dataDir`, with the admin's password set. */
export function embeddedEnv(dataDir: string): Record<string, string> {
  return {
    OTKLIK_DATA_DIR: dataDir,
    NLU_MODEL_DIR: join(dataDir, 'nlu'),
    OTKLIK_ADMIN_PASSWORD: 'admin-pass-122',
    // Inquiries are not under test: no worker on the Redis other tests share.
    REDIS_URL: 'redis://127.0.0.1:1',
  };
}

/** Runs `otklik <args>` with env on top of this process's environment; resolves when it exits. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/otklik.js', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (code, signal) => resolve({ code: signal ? 137 : code, stdout, stderr }));
  });
}

/**
 * Starts `otklik serve` and waits for its start-up line. Rejects with its stderr when it exits first, so a
 * test can also assert why a start was refused (`exited` and `stderr()` are on the error's `serve`).
 */
export function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['bin/otklik.js', 'serve'], {
    cwd: root,
    env: { ...process.env, HTTP_PORT: '0', MEDIA_SOCKET_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ? 137 : code)),
  );
  return new Promise<ServeProcess>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /интерфейс сотрудников (https?:\/\/[\w.]+:\d+)/.exec(stderr);
      if (m) {
        clearInterval(timer);
        resolve({ child, base: m[1]!, exited, stderr: () => stderr, stdout: () => stdout });
      }
    }, 100);
    exited.then((code) => {
      clearInterval(timer);
      reject(Object.assign(new Error(`serve exited with ${code}: ${stderr}`), { code, stderr }));
    });
  });
}

/** Signs in through the staff API; returns the HTTP status. */
export async function signIn(base: string, login: string, password: string): Promise<number> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  await res.body?.cancel();
  return res.status;
}
