import { readFile } from 'node:fs/promises';
import { OtklikError } from '../core/errors.js';
import type { LabeledText } from './train.js';

/**
 * Labeled TSV (UTF-8, header `text<TAB>intent`, columns in any order, extra columns ignored). Any bad
 * row rejects the whole file with its line number: a silently skipped row would skew an evaluation.
 */
export function parseLabeledTsv(content: string, source = 'input'): LabeledText[] {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split('\t').map((h) => h.trim().toLowerCase());
  const textCol = header.indexOf('text');
  const labelCol = header.indexOf('intent');
  if (textCol < 0 || labelCol < 0) {
    throw new OtklikError(
      'VALIDATION_FAILED',
      `${source}:1: the header must name the columns "text" and "intent" (tab-separated)`,
    );
  }
  const out: LabeledText[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split('\t');
    const where = `${source}:${i + 1}`;
    if (cells.length < header.length) {
      throw new OtklikError(
        'VALIDATION_FAILED',
        `${where}: expected ${header.length} tab-separated columns, found ${cells.length}`,
      );
    }
    const text = cells[textCol]!.trim();
    const label = cells[labelCol]!.trim();
    if (text === '') throw new OtklikError('VALIDATION_FAILED', `${where}: the text is empty`);
    if (label === '') throw new OtklikError('VALIDATION_FAILED', `${where}: the intent is empty`);
    out.push({ text, label });
  }
  if (out.length === 0) throw new OtklikError('VALIDATION_FAILED', `${source}: no rows after the header`);
  return out;
}

export async function readLabeledTsv(path: string): Promise<LabeledText[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (err) {
    throw new OtklikError('VALIDATION_FAILED', `${path}: cannot read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseLabeledTsv(content, path);
}
