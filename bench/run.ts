/**
 * `npm run bench`: runs every benchmark script in bench/ one after another (they compete for the same two
 * cores otherwise) and prints their tables. `npm run bench -- nlu kb` runs only those whose name matches.
 * Each script is bounded in time and also writes its own bench/results-<part>.md.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((name) => name.endsWith('.ts') && name !== 'run.ts' && !name.endsWith('.test.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

let failed = 0;
for (const script of scripts) {
  process.stdout.write(`\n=== bench/${script}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${script}`], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    process.stdout.write(`bench/${script} exited with ${result.status}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
