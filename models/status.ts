import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installPath, type Manifest, type ModelEntry } from './manifest.js';

/**
 * What is installed, and whether it is what the manifest promises. Hashing hundreds of megabytes on every
 * `status` would be slow, so a fetch records each file's size, mtime and sha256 in an install record; status
 * trusts a record whose size and mtime still match and hashes everything else (or all with `verify`).
 */

/** Per model, since several models (the Piper voices) may share one install folder. */
export function installRecordName(model: string): string {
  return `.${model}.otklik-install.json`;
}

export type ModelState = 'verified' | 'unverified' | 'missing' | 'incomplete' | 'checksum_mismatch';

export interface ModelStatus {
  name: string;
  kind: string;
  state: ModelState;
  dir: string;
  /** Human-readable detail: which files are missing or differ, or why it is unverified. */
  detail: string;
  bytes: number;
}

interface RecordedFile {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface InstallRecord {
  model: string;
  installedAt: string;
  archiveSha256?: string;
  files: Record<string, RecordedFile>;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export function readInstallRecord(dir: string, model: string): InstallRecord | null {
  try {
    return JSON.parse(readFileSync(join(dir, installRecordName(model)), 'utf8')) as InstallRecord;
  } catch {
    return null;
  }
}

export function writeInstallRecord(dir: string, record: InstallRecord): void {
  writeFileSync(join(dir, installRecordName(record.model)), `${JSON.stringify(record, null, 2)}\n`);
}

/** Hashes a file, reusing the install record when the file is unchanged since it was written. */
export async function fileDigest(dir: string, rel: string, record: InstallRecord | null, verify: boolean) {
  const path = join(dir, rel);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  const known = record?.files[rel];
  if (!verify && known && known.size === st.size && known.mtimeMs === st.mtimeMs) {
    return { size: st.size, mtimeMs: st.mtimeMs, sha256: known.sha256 };
  }
  return { size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(path) };
}

export async function modelStatus(
  modelsDir: string,
  entry: ModelEntry,
  verify = false,
): Promise<ModelStatus> {
  const dir = installPath(modelsDir, entry);
  const base = { name: entry.name, kind: entry.kind, dir };
  const record = readInstallRecord(dir, entry.name);
  if (entry.files.length === 0) {
    // Nothing is known about the contents: the model is present if a fetch finished installing it.
    if (!record || record.model !== entry.name) {
      return { ...base, state: 'missing', detail: 'not installed', bytes: 0 };
    }
    const bytes = Object.values(record.files).reduce((s, f) => s + f.size, 0);
    const archive = record.archiveSha256 ? ` (archive sha256 ${record.archiveSha256})` : '';
    return { ...base, state: 'unverified', detail: `no published checksum${archive}`, bytes };
  }
  const missing: string[] = [];
  const mismatched: string[] = [];
  let unknown = 0;
  let bytes = 0;
  for (const file of entry.files) {
    const digest = await fileDigest(dir, file.path, record, verify);
    if (!digest) {
      missing.push(file.path);
      continue;
    }
    bytes += digest.size;
    if (file.size !== null && digest.size !== file.size)
      mismatched.push(`${file.path} (size ${digest.size} ≠ ${file.size})`);
    else if (file.sha256 === null) unknown++;
    else if (digest.sha256 !== file.sha256) mismatched.push(`${file.path} (sha256 differs)`);
  }
  if (missing.length === entry.files.length)
    return { ...base, state: 'missing', detail: 'not installed', bytes: 0 };
  if (mismatched.length > 0) {
    return { ...base, state: 'checksum_mismatch', detail: mismatched.join(', '), bytes };
  }
  if (missing.length > 0)
    return { ...base, state: 'incomplete', detail: `missing: ${missing.join(', ')}`, bytes };
  if (unknown > 0)
    return { ...base, state: 'unverified', detail: `${unknown} file(s) without a known checksum`, bytes };
  return { ...base, state: 'verified', detail: `${entry.files.length} file(s) match the manifest`, bytes };
}

export async function allModelStatuses(
  modelsDir: string,
  manifest: Manifest,
  verify = false,
): Promise<ModelStatus[]> {
  const out: ModelStatus[] = [];
  for (const entry of manifest.models) out.push(await modelStatus(modelsDir, entry, verify));
  return out;
}

function formatBytes(n: number): string {
  if (n === 0) return '-';
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A plain-text table for `otklik models status`. */
export function formatStatusTable(rows: ModelStatus[]): string {
  const header = ['MODEL', 'KIND', 'STATE', 'SIZE', 'DETAIL'];
  const cells = rows.map((r) => [r.name, r.kind, r.state, formatBytes(r.bytes), r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}
