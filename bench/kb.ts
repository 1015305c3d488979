/**
 * Knowledge-base benchmark: approved-answer and agency-hours lookups (p50/p95/p99), and whole-KB export and
 * import times, on the shipped seed and on a 10× enlarged copy of it, on PGlite and on the PostgreSQL server.
 * Bounded: a fixed number of lookups and repetitions (well under a minute on a shared 2-core machine).
 * Run: node --import tsx bench/kb.ts   (writes bench/results-kb.md)
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { percentile } from '../core/stats.js';
import type { KbDocument } from '../kb/document.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { seedSources } from '../kb/seed.js';
import { exportKb, importKb } from '../kb/transfer.js';
import { kbDocumentToYaml } from '../kb/yaml-export.js';
import { parseKbSources } from '../kb/yaml-parse.js';
import { type Backend, openTestDb } from '../test/support/db.js';

const LOOKUPS = 600;
const REPEATS = 3;

/** The seed grown 10×: ten times the training phrases, answer versions (history), prompts and vocabulary. */
function enlarge(doc: KbDocument): KbDocument {
  const times = 10;
  const copies = (n: number) => Array.from({ length: n }, (_, k) => k + 1);
  return {
    ...doc,
    intents: doc.intents.map((i) => ({
      ...i,
      phrases: [...i.phrases, ...copies(times - 1).flatMap((k) => i.phrases.map((p) => `${p} вариант ${k}`))],
    })),
    answers: doc.answers.map((a) => {
      const top = Math.max(...a.versions.map((v) => v.version));
      const history = copies(times - 1).flatMap((k) =>
        a.versions.map((v, j) => ({
          ...v,
          version: top + (k - 1) * a.versions.length + j + 1,
          status: 'retired' as const,
          speech: `${v.speech} (редакция ${k})`,
        })),
      );
      return { ...a, versions: [...a.versions, ...history] };
    }),
    prompts: [
      ...doc.prompts,
      ...copies(times - 1).flatMap((k) => doc.prompts.map((p) => ({ id: `${p.id}_copy${k}`, text: p.text }))),
    ],
    vocabulary: [
      ...doc.vocabulary,
      ...copies(times - 1).flatMap((k) => doc.vocabulary.map((v) => `${v} ${k}`)),
    ],
  };
}

interface Measured {
  backend: Backend;
  size: string;
  phrases: number;
  versions: number;
  answer: number[];
  hours: number[];
  exportMs: number[];
  importMs: number[];
  yamlKb: number;
}

async function measure(backend: Backend, size: string, doc: KbDocument): Promise<Measured> {
  const db = await openTestDb(backend);
  try {
    const yaml = kbDocumentToYaml(doc);
    const source = { name: `${size}.yaml`, text: yaml };
    const importMs: number[] = [];
    const exportMs: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      let t = performance.now();
      await importKb(db.sql, [source]);
      importMs.push(performance.now() - t);
      t = performance.now();
      await exportKb(db.sql);
      exportMs.push(performance.now() - t);
    }
    const kb = createKnowledgeBase(db.sql);
    const answered = doc.answers.map((a) => a.intent);
    const agencies = doc.agencies.map((a) => a.id);
    const answer: number[] = [];
    const hours: number[] = [];
    const at = new Date('2026-12-30T17:55:00+03:00');
    for (let i = 0; i < LOOKUPS; i++) {
      let t = performance.now();
      await kb.approvedAnswer(answered[i % answered.length]!);
      answer.push(performance.now() - t);
      t = performance.now();
      await kb.agencyOpen(agencies[i % agencies.length]!, at);
      hours.push(performance.now() - t);
    }
    return {
      backend,
      size,
      phrases: doc.intents.reduce((n, i) => n + i.phrases.length, 0),
      versions: doc.answers.reduce((n, a) => n + a.versions.length, 0),
      answer,
      hours,
      exportMs,
      importMs,
      yamlKb: Buffer.byteLength(yaml) / 1024,
    };
  } finally {
    await db.drop();
  }
}

const fmt = (ms: number) => ms.toFixed(2).padStart(7);
const triple = (s: number[]) =>
  `${fmt(percentile(s, 50))} ${fmt(percentile(s, 95))} ${fmt(percentile(s, 99))}`;

async function main(): Promise<void> {
  const seed = parseKbSources(seedSources());
  const big = enlarge(seed);
  const results: Measured[] = [];
  for (const backend of ['pglite', 'postgres'] as Backend[]) {
    try {
      for (const [size, doc] of [
        ['seed', seed],
        ['seed×10', big],
      ] as const) {
        results.push(await measure(backend, size, doc));
      }
    } catch (err) {
      process.stdout.write(`${backend}: skipped (${(err as Error).message})\n`);
    }
  }
  const lines: string[] = [];
  const out = (line: string) => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  out(
    `lookups: ${LOOKUPS} each; import/export: ${REPEATS} runs each (median shown); times in ms; ` +
      `load average at the end ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  out(
    'backend  KB       phrases versions  YAML KiB | approvedAnswer p50/p95/p99 | agencyOpen p50/p95/p99   | export p50 | import p50',
  );
  for (const r of results) {
    out(
      `${r.backend.padEnd(8)} ${r.size.padEnd(8)} ${String(r.phrases).padStart(7)} ${String(r.versions).padStart(8)} ` +
        `${r.yamlKb.toFixed(0).padStart(9)} | ${triple(r.answer)}    | ${triple(r.hours)}  | ${fmt(percentile(r.exportMs, 50))}    | ${fmt(percentile(r.importMs, 50))}`,
    );
  }
  for (const backend of ['pglite', 'postgres']) {
    const small = results.find((r) => r.backend === backend && r.size === 'seed');
    const large = results.find((r) => r.backend === backend && r.size === 'seed×10');
    if (!small || !large) continue;
    const ratio = (a: number[], b: number[]) => (percentile(b, 50) / percentile(a, 50)).toFixed(2);
    out(
      `${backend}: 10× / 1× ratio (p50): approvedAnswer ${ratio(small.answer, large.answer)}x, agencyOpen ` +
        `${ratio(small.hours, large.hours)}x, export ${ratio(small.exportMs, large.exportMs)}x, import ${ratio(small.importMs, large.importMs)}x`,
    );
  }
  const pg = results.find((r) => r.backend === 'pglite' && r.size === 'seed');
  const srv = results.find((r) => r.backend === 'postgres' && r.size === 'seed');
  if (pg && srv) {
    out(
      `postgres / pglite ratio on the seed (p50): approvedAnswer ${(percentile(srv.answer, 50) / percentile(pg.answer, 50)).toFixed(2)}x, ` +
        `import ${(percentile(srv.importMs, 50) / percentile(pg.importMs, 50)).toFixed(2)}x`,
    );
  }
  writeResults(lines);
}

function writeResults(lines: string[]): void {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`;
  writeFileSync(
    new URL('./results-kb.md', import.meta.url),
    [
      '# Knowledge base: lookups, export and import',
      '',
      `Measured by \`node --import tsx bench/kb.ts\` on ${machine}, ${new Date().toISOString().slice(0, 10)}.`,
      'The shipped seed (kb/seed/*.yaml) and a 10× copy (ten times the training phrases, answer versions,',
      'prompts and vocabulary) are imported into a fresh store on each backend: in-memory PGlite, and a schema',
      'on the local PostgreSQL server. `approvedAnswer` and `agencyOpen` (schedule + production calendar, at',
      '17:55 on 30 December 2026) are awaited one by one, as a call does. Import = parse + validate + replace',
      'the whole KB in one transaction; export = read every table + write YAML.',
      '',
      '```',
      ...lines,
      '```',
      '',
      'Reading: an answer lookup is one indexed query and does not grow with the KB (a partial unique index',
      'finds the approved version directly); agencyOpen reads the whole calendar (about 70 rows) per call and',
      'stays around a millisecond. Import and export grow with the content but far less than 10× on PGlite, where',
      'fixed costs (statements, YAML) dominate at seed size: every table is written with one INSERT …',
      'json_to_recordset statement. The machine is a shared 2-core box under load from other jobs: p95/p99 are noisy.',
      '',
    ].join('\n'),
  );
}

await main();
