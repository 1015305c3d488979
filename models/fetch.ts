import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { OtklikError } from '../core/errors.js';
import { downloadToPart } from './download.js';
import { findModel, installPath, type Manifest, type ModelEntry, type ModelFile } from './manifest.js';
import { createProgress, type Progress } from './progress.js';
import {
  fileDigest,
  type InstallRecord,
  type ModelStatus,
  modelStatus,
  sha256File,
  writeInstallRecord,
} from './status.js';

/**
 * `otklik models fetch NAME`: download (resumable), verify, and only then install. A file that fails its
 * checksum is deleted and never reaches the install folder; an installed model is replaced atomically
 * (rename), so a running service never sees a half-unpacked model. Zips are unpacked with Debian's
 * `unzip` program, which streams (the large Vosk model is 1.8 GB, too big for in-memory zip libraries).
 */

const run = promisify(execFile);

export interface FetchOptions {
  modelsDir: string;
  manifest: Manifest;
  /** Re-download even when the installed copy verifies. */
  force?: boolean;
  progress?: (label: string) => Progress;
  signal?: AbortSignal;
}

export interface FetchResult {
  status: ModelStatus;
  /** False when the installed copy already verified and nothing was downloaded. */
  downloaded: boolean;
  resumedFrom: number;
}

function downloadsDir(modelsDir: string): string {
  return join(modelsDir, 'downloads');
}

function checksumError(what: string, expected: string, actual: string): OtklikError {
  return new OtklikError(
    'MODEL_BROKEN',
    `${what}: checksum mismatch (expected sha256 ${expected}, got ${actual}); the file was deleted and nothing was installed`,
  );
}

async function verifyFile(path: string, file: ModelFile, label: string): Promise<string> {
  const size = statSync(path).size;
  if (file.size !== null && size !== file.size) {
    throw new OtklikError(
      'MODEL_BROKEN',
      `${label}: size ${size} bytes, expected ${file.size}; nothing was installed`,
    );
  }
  const digest = await sha256File(path);
  if (file.sha256 !== null && digest !== file.sha256) throw checksumError(label, file.sha256, digest);
  return digest;
}

async function unzip(archive: string, into: string): Promise<void> {
  try {
    await run('unzip', ['-q', '-o', archive, '-d', into]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new OtklikError(
        'ENGINE_FAILED',
        'the `unzip` program is needed to unpack models (apt-get install unzip)',
      );
    }
    throw new OtklikError(
      'MODEL_BROKEN',
      `${archive}: not a valid zip archive: ${(e.stderr ?? e.message).trim()}`,
    );
  }
}

/** Archives usually hold one top folder named after the model; its content is what gets installed. */
function unwrapSingleFolder(dir: string): string {
  const entries = readdirSync(dir, { withFileTypes: true });
  const only = entries[0];
  return entries.length === 1 && only?.isDirectory() ? join(dir, only.name) : dir;
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), root) : [relative(root, join(dir, e.name))],
  );
}

async function recordFor(
  model: string,
  dir: string,
  paths: string[],
  archiveSha256?: string,
): Promise<InstallRecord> {
  const files: InstallRecord['files'] = {};
  for (const rel of paths) {
    const d = await fileDigest(dir, rel, null, true);
    if (d) files[rel] = d;
  }
  return { model, installedAt: new Date().toISOString(), ...(archiveSha256 ? { archiveSha256 } : {}), files };
}

/** Moves `from` into `to`, replacing what was there only after the new copy is in place. */
function swapInto(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  const old = `${to}.old-${process.pid}`;
  let hadOld = false;
  try {
    renameSync(to, old);
    hadOld = true;
  } catch {
    hadOld = false;
  }
  renameSync(from, to);
  if (hadOld) rmSync(old, { recursive: true, force: true });
}

async function fetchArchive(entry: ModelEntry, opts: FetchOptions, progress: Progress): Promise<number> {
  const archive = entry.archive!;
  const part = join(downloadsDir(opts.modelsDir), `${entry.name}.zip.part`);
  const result = await downloadToPart(archive.url, part, {
    expectedSize: archive.size,
    progress,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const digest = await sha256File(part);
  if (archive.sha256 !== null && digest !== archive.sha256) {
    rmSync(part, { force: true });
    throw checksumError(`${entry.name} archive`, archive.sha256, digest);
  }
  const unpackDir = join(downloadsDir(opts.modelsDir), `${entry.name}.unpack-${process.pid}`);
  rmSync(unpackDir, { recursive: true, force: true });
  try {
    await unzip(part, unpackDir);
    const root = unwrapSingleFolder(unpackDir);
    for (const file of entry.files) {
      const path = join(root, file.path);
      try {
        statSync(path);
      } catch {
        throw new OtklikError(
          'MODEL_BROKEN',
          `${entry.name}: the archive lacks ${file.path}; nothing was installed`,
        );
      }
      await verifyFile(path, file, `${entry.name}/${file.path}`);
    }
    const record = await recordFor(entry.name, root, listFiles(root), digest);
    writeInstallRecord(root, record);
    swapInto(root, installPath(opts.modelsDir, entry));
  } catch (err) {
    // A bad archive is useless for a resume; keep nothing of it.
    rmSync(part, { force: true });
    throw err;
  } finally {
    rmSync(unpackDir, { recursive: true, force: true });
  }
  rmSync(part, { force: true });
  return result.resumedFrom;
}

async function fetchFiles(entry: ModelEntry, opts: FetchOptions, progressFor: (label: string) => Progress) {
  const dir = installPath(opts.modelsDir, entry);
  let resumedFrom = 0;
  for (const file of entry.files) {
    const target = join(dir, file.path);
    const current = await fileDigest(dir, file.path, null, true);
    if (!opts.force && current && file.sha256 !== null && current.sha256 === file.sha256) continue;
    const part = join(downloadsDir(opts.modelsDir), `${entry.name}-${basename(file.path)}.part`);
    const progress = progressFor(`${entry.name}: ${file.path}`);
    const result = await downloadToPart(file.url!, part, {
      expectedSize: file.size,
      progress,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    progress.finish('downloaded');
    resumedFrom = Math.max(resumedFrom, result.resumedFrom);
    try {
      await verifyFile(part, file, `${entry.name}/${file.path}`);
    } catch (err) {
      rmSync(part, { force: true });
      throw err;
    }
    mkdirSync(dirname(target), { recursive: true });
    renameSync(part, target);
  }
  mkdirSync(dir, { recursive: true });
  const record = await recordFor(
    entry.name,
    dir,
    entry.files.map((f) => f.path),
  );
  writeInstallRecord(dir, record);
  return resumedFrom;
}

export async function fetchModel(name: string, opts: FetchOptions): Promise<FetchResult> {
  const entry = findModel(opts.manifest, name);
  const progressFor = opts.progress ?? ((label: string) => createProgress(label));
  const before = await modelStatus(opts.modelsDir, entry, true);
  // A model with no published checksums counts as installed once a fetch has finished it.
  const installed =
    before.state === 'verified' || (before.state === 'unverified' && entry.files.length === 0);
  if (!opts.force && installed) return { status: before, downloaded: false, resumedFrom: 0 };
  let resumedFrom: number;
  if (entry.archive) {
    const progress = progressFor(entry.name);
    resumedFrom = await fetchArchive(entry, opts, progress);
    progress.finish('installed');
  } else {
    resumedFrom = await fetchFiles(entry, opts, progressFor);
  }
  return { status: await modelStatus(opts.modelsDir, entry, true), downloaded: true, resumedFrom };
}
