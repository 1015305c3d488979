import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import { OtklikError } from '../core/errors.js';
import { type KbDocument, kbDocumentSchema, listSections } from './document.js';
import { checkReferences } from './references.js';

/**
 * Reads one or more KB YAML files into one validated document. Several files (the shipped seed) are merged
 * section by section: list sections are concatenated, the scalar settings come from whichever file sets
 * them. Every problem is reported as `file:line field: message`, with the field path as written in its file.
 */
export interface KbSource {
  /** Shown in error messages (a path relative to the project, or the name given on the command line). */
  name: string;
  text: string;
}

export interface KbIssue {
  file: string;
  line: number;
  field: string;
  message: string;
}

interface ParsedFile {
  name: string;
  doc: Document;
  lines: LineCounter;
}

/** Where a merged list item came from: its file and its index there. */
interface Origin {
  file: ParsedFile;
  index: number;
}

type Path = (string | number)[];

export function formatField(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(document)';
}

export function formatIssue(i: KbIssue): string {
  return `${i.file}:${i.line} ${i.field}: ${i.message}`;
}

function lineOf(file: ParsedFile, path: Path): number {
  // The deepest node that exists along the path: a missing field is reported at its parent.
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? file.doc.contents : file.doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return file.lines.linePos(node.range[0]).line;
  }
  return 1;
}

export function validationError(issues: KbIssue[]): OtklikError {
  const sorted = [...issues].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  const shown = sorted.slice(0, 50).map(formatIssue);
  if (sorted.length > 50) shown.push(`... and ${sorted.length - 50} more`);
  return new OtklikError(
    'VALIDATION_FAILED',
    `the knowledge base is invalid (${sorted.length} problem${sorted.length === 1 ? '' : 's'}):\n${shown.join('\n')}`,
    { details: { issues: sorted } },
  );
}

/** Parses, merges and validates; throws OtklikError VALIDATION_FAILED listing every problem found. */
export function parseKbSources(sources: KbSource[]): KbDocument {
  const issues: KbIssue[] = [];
  const files: ParsedFile[] = [];
  for (const source of sources) {
    const lines = new LineCounter();
    const doc = parseDocument(source.text, { lineCounter: lines, uniqueKeys: true });
    const file = { name: source.name, doc, lines };
    for (const err of doc.errors) {
      issues.push({
        file: source.name,
        line: err.linePos?.[0].line ?? 1,
        field: '(yaml)',
        message: err.message,
      });
    }
    if (doc.errors.length === 0) files.push(file);
  }
  if (issues.length > 0) throw validationError(issues);

  const merged: Record<string, unknown> = {};
  const scalarOrigin = new Map<string, ParsedFile>();
  const listOrigins = new Map<string, Origin[]>();
  for (const file of files) {
    const data: unknown = file.doc.toJS();
    if (data === null || data === undefined) continue;
    if (typeof data !== 'object' || Array.isArray(data)) {
      issues.push({
        file: file.name,
        line: 1,
        field: '(document)',
        message: 'expected a mapping of sections',
      });
      continue;
    }
    for (const [key, value] of Object.entries(data)) {
      const isList = (listSections as string[]).includes(key);
      // `prompts:` with nothing under it is an empty section, not an error.
      if (isList && value === null) continue;
      if (isList && Array.isArray(value)) {
        if (!Array.isArray(merged[key])) merged[key] = [];
        const list = merged[key] as unknown[];
        const origins = listOrigins.get(key) ?? [];
        value.forEach((item, index) => {
          list.push(item);
          origins.push({ file, index });
        });
        listOrigins.set(key, origins);
      } else if (key in merged && JSON.stringify(merged[key]) !== JSON.stringify(value)) {
        const first = scalarOrigin.get(key)?.name ?? '?';
        issues.push({
          file: file.name,
          line: lineOf(file, [key]),
          field: key,
          message: `conflicts with the value in ${first}`,
        });
      } else {
        merged[key] = value;
        scalarOrigin.set(key, file);
      }
    }
  }

  const locate = (path: Path, message: string) => {
    const [section, index, ...rest] = path;
    const origin = typeof index === 'number' ? listOrigins.get(String(section))?.[index] : undefined;
    if (origin) {
      const local = [section!, origin.index, ...rest];
      issues.push({
        file: origin.file.name,
        line: lineOf(origin.file, local),
        field: formatField(local),
        message,
      });
      return;
    }
    const file = scalarOrigin.get(String(section)) ?? files[0];
    issues.push({
      file: file?.name ?? sources[0]?.name ?? '?',
      line: file ? lineOf(file, path) : 1,
      field: formatField(path),
      message,
    });
  };

  const parsed = kbDocumentSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) locate([...path, key], `unknown field "${key}"`);
      } else {
        locate(path, issue.message);
      }
    }
  }
  if (issues.length > 0 || !parsed.success) throw validationError(issues);
  for (const issue of checkReferences(parsed.data)) locate(issue.path, issue.message);
  if (issues.length > 0) throw validationError(issues);
  // Flows are the voice bot's documents: keep them exactly as written (key order included).
  const doc = parsed.data;
  doc.flows = ((merged.flows as Record<string, unknown>[] | undefined) ?? []).map((f) => ({
    ...f,
    id: String(f.id),
  }));
  return doc;
}
