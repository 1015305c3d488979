#!/usr/bin/env node
// Runs every *.test.ts under the project's folders with node's built-in test runner (through tsx).
// Usage: npm test [-- <path filter> ...]   e.g. npm test -- kb/ nlu/normalize
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { freemem, loadavg, tmpdir } from 'node:os';
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
const child = spawn(process.execPath, [...args, ...files], { stdio: 'inherit', cwd: root });

// A run far past its usual length (about 15 minutes on 2 cores) is stuck somewhere: print what the machine is
// doing, so that a CI log that ends in timeouts says whether the disk, the memory or a leftover process was the
// cause. Also printed when the run fails.
const SLOW_RUN_MS = Number(process.env.TEST_SLOW_RUN_MS ?? 25 * 60_000);
function machineState(why) {
  const show = (cmd, cmdArgs) => {
    const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', timeout: 10_000 });
    return r.error ? `${cmd}: ${r.error.message}` : (r.stdout + r.stderr).trimEnd();
  };
  const lines = [
    `--- test run: ${why}; the machine now ---`,
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, free memory ${Math.round(freemem() / 2 ** 20)} MiB`,
    show('df', ['-h', '/', tmpdir()]),
    show('sh', ['-c', 'ps -eo pid,ppid,etimes,pcpu,rss,args --sort=-pcpu | head -n 15 | cut -c1-200']),
    '---',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}
const started = Date.now();
const slow = setInterval(() => {
  if (Date.now() - started >= SLOW_RUN_MS)
    machineState(`running for ${Math.round((Date.now() - started) / 60_000)} min`);
}, 5 * 60_000);
slow.unref();
child.on('exit', (code, signal) => {
  clearInterval(slow);
  if (code !== 0) machineState(`ended with ${code ?? signal}`);
  process.exit(code ?? 1);
});
