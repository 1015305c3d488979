import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Structural check of a Vosk model folder BEFORE vosk_model_new sees it: Kaldi aborts the whole process
 * on some broken models, so a missing or truncated file must be caught here, where it is only an error.
 */

export const VOSK_FETCH_HINT = 'otklik models fetch vosk-model-small-ru-0.22';

export type VoskModelDirState =
  | { status: 'ok'; dir: string; dynamicGraph: boolean }
  | { status: 'missing'; dir: string; message: string }
  | { status: 'broken'; dir: string; message: string; problems: string[] };

const KALDI_BINARY = Buffer.from([0x00, 0x42]); // "\0B": every Kaldi binary object starts so
const FST_MAGIC = Buffer.from([0xd6, 0xfd, 0xb2, 0x7e]); // OpenFst magic 0x7eb2fdd6, little-endian

function head(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const read = readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function fileSize(path: string): number | null {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/**
 * @param expectedSizes relative path → byte size, when the model is one from the manifest; a size
 *   difference means an interrupted copy, which the magic bytes alone would not reveal.
 */
export function checkVoskModelDir(
  dirPath: string,
  expectedSizes: Record<string, number> = {},
): VoskModelDirState {
  const dir = resolve(dirPath);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    return {
      status: 'missing',
      dir,
      message: `ASR model not found at ${dir}: run \`${VOSK_FETCH_HINT}\` (or set VOSK_MODEL_PATH)`,
    };
  }
  const problems: string[] = [];
  const requireFile = (rel: string, magic?: Buffer): boolean => {
    const size = fileSize(join(dir, rel));
    if (size === null) {
      problems.push(`${rel} is missing`);
      return false;
    }
    if (size === 0) {
      problems.push(`${rel} is empty`);
      return false;
    }
    if (magic && !head(join(dir, rel), magic.length).equals(magic)) {
      problems.push(`${rel} is not a valid ${magic === FST_MAGIC ? 'OpenFst' : 'Kaldi binary'} file`);
      return false;
    }
    return true;
  };
  requireFile('am/final.mdl', KALDI_BINARY);
  requireFile('conf/mfcc.conf');
  requireFile('conf/model.conf');
  const hasStatic = fileSize(join(dir, 'graph/HCLG.fst')) !== null;
  const hasDynamic =
    fileSize(join(dir, 'graph/HCLr.fst')) !== null || fileSize(join(dir, 'graph/Gr.fst')) !== null;
  if (hasStatic) requireFile('graph/HCLG.fst', FST_MAGIC);
  if (hasDynamic || !hasStatic) {
    requireFile('graph/HCLr.fst', FST_MAGIC);
    requireFile('graph/Gr.fst', FST_MAGIC);
  }
  if (
    fileSize(join(dir, 'ivector/final.ie')) !== null ||
    fileSize(join(dir, 'ivector/final.dubm')) !== null
  ) {
    requireFile('ivector/final.ie', KALDI_BINARY);
    requireFile('ivector/final.dubm', KALDI_BINARY);
  }
  for (const [rel, size] of Object.entries(expectedSizes)) {
    const actual = fileSize(join(dir, rel));
    if (actual === null) problems.push(`${rel} is missing`);
    else if (actual !== size) problems.push(`${rel} has ${actual} bytes, expected ${size}`);
  }
  const unique = [...new Set(problems)];
  if (unique.length > 0) {
    return {
      status: 'broken',
      dir,
      problems: unique,
      message: `ASR model at ${dir} is broken (${unique.join('; ')}): reinstall it with \`${VOSK_FETCH_HINT} --force\``,
    };
  }
  return { status: 'ok', dir, dynamicGraph: !hasStatic };
}
