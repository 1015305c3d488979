import { mkdirSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OtklikError } from '../core/errors.js';
import type { Progress } from './progress.js';

/**
 * Downloads a URL into a `.part` file, resuming with an HTTP Range request when a previous attempt was
 * cut off. The part file is kept on failure so the next `otklik models fetch` continues where this stopped.
 */

export interface DownloadResult {
  bytes: number;
  resumedFrom: number;
}

function partSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function httpError(url: string, status: number): OtklikError {
  if (status === 404 || status === 410)
    return new OtklikError('NOT_FOUND', `${url}: not found on the server (HTTP ${status})`);
  return new OtklikError('UNAVAILABLE', `${url}: the server answered HTTP ${status}`, {
    retryable: status >= 500 || status === 429,
  });
}

function interrupted(url: string, where: string, cause?: unknown): OtklikError {
  return new OtklikError(
    'UNAVAILABLE',
    `${url}: download interrupted ${where}; run the same command again to resume`,
    {
      retryable: true,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

export async function downloadToPart(
  url: string,
  partPath: string,
  opts: { expectedSize: number | null; progress: Progress; signal?: AbortSignal },
): Promise<DownloadResult> {
  mkdirSync(dirname(partPath), { recursive: true });
  let offset = partSize(partPath);
  if (opts.expectedSize !== null && offset > opts.expectedSize) {
    rmSync(partPath, { force: true });
    offset = 0;
  }
  if (opts.expectedSize !== null && offset === opts.expectedSize && offset > 0) {
    return { bytes: offset, resumedFrom: offset };
  }
  let res: Response;
  try {
    res = await fetch(url, {
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    throw new OtklikError('UNAVAILABLE', `${url}: cannot connect: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
    });
  }
  if (res.status === 416 && offset > 0) {
    // The server has nothing past our offset: the part is complete when its size is unknown to us.
    await res.body?.cancel();
    return { bytes: offset, resumedFrom: offset };
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw httpError(url, res.status);
  }
  const append = res.status === 206 && offset > 0;
  if (append) {
    const range = /bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      await res.body?.cancel();
      rmSync(partPath, { force: true });
      throw interrupted(url, 'because the server resumed at the wrong offset (the partial file was deleted)');
    }
  }
  const start = append ? offset : 0;
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const total = Number.isFinite(length) ? start + length : opts.expectedSize;
  let done = start;
  opts.progress.update(done, total);
  // Written chunk by chunk and awaited, so every byte received before a cut-off is on disk for the resume.
  const file = await open(partPath, append ? 'a' : 'w');
  try {
    for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
      await file.write(chunk);
      done += chunk.length;
      opts.progress.update(done, total);
    }
  } catch (err) {
    throw interrupted(url, `after ${done} bytes (${(err as Error).message})`, err);
  } finally {
    await file.close();
  }
  const size = partSize(partPath);
  if (total !== null && size < total) throw interrupted(url, `at ${size} of ${total} bytes`);
  return { bytes: size, resumedFrom: append ? offset : 0 };
}
