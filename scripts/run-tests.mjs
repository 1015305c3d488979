#!/usr/bin/env node
// Runs every *.test.ts under the project's folders with node's built-in test runner (through tsx).
// Usage: npm test [-- <path filter> ...]   e.g. npm test -- kb/ nlu/normalize
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = [
  'core',
  'store',
  'media',
  'kb',
  'nlu',
  'speech',
  'calls',
  'voicebot',
  'telephony',
  'inquiries',
  'admin',
  'models',
  'cli',
  'test',
];
const skipDirs = new Set(['node_modules', 'data', 'npm-stubs', '.git']);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (skipDirs.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = roots
  .flatMap((r) => walk(join(root, r), []))
  .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched', filters);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// A guard against a hung file, not a speed check: the browser suites run a dozen pages on a loaded 2-core machine.
const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000'];
if (!process.stdout.isTTY) args.push('--test-reporter=spec');
const result = spawnSync(process.execPath, [...args, ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
