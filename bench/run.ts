/**
 * `npm run bench`: runs every benchmark script in bench/ one after another (they compete for the same two
 * cores otherwise) and prints their tables. `npm run bench -- nlu kb` runs only those whose name matches.
 * Each script is bounded in time and writes (or, for the older parts, is summarized in) its own
 * bench/results-<part>.md; afterwards bench/RESULTS.md is assembled from bench/SUMMARY.md and every part, so
 * the single results file never drifts from the parts. `npm run bench -- --assemble` only assembles.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const assembleOnly = args.includes('--assemble');
const filters = args.filter((a) => !a.startsWith('--'));

/** Each part starts at heading level 1; nest it one level below RESULTS.md's title (not inside code fences). */
function nestHeadings(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (line.startsWith('```')) fenced = !fenced;
      return !fenced && /^#+ /.test(line) ? `#${line}` : line;
    })
    .join('\n');
}

/** A results page from a script's printed output: its headings kept, everything else as printed. */
function printedResults(script: string, stdout: string): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const header = [
    `# bench/${script}`,
    '',
    `\`node --import tsx bench/${script}\` — ${new Date().toISOString()}, ${cpus().length} CPUs (${cpu}), load average ${loadavg()[0]?.toFixed(1)} at the end. Its output as printed:`,
    '',
  ];
  const body = stdout
    .trimEnd()
    .split('\n')
    .map((line) => (/^#+ /.test(line) ? `#${line}` : `    ${line}`));
  return `${[...header, ...body].join('\n')}\n`;
}

function assembleResults(): void {
  const parts = readdirSync(dir)
    .filter((name) => /^results-.+\.md$/.test(name))
    .sort();
  const sections = parts.map((name) => {
    const body = nestHeadings(readFileSync(`${dir}${name}`, 'utf8'));
    return `<!-- from bench/${name} -->\n${body.trimEnd()}\n`;
  });
  const summary = readFileSync(`${dir}SUMMARY.md`, 'utf8').trimEnd();
  writeFileSync(`${dir}RESULTS.md`, `${summary}\n\n${sections.join('\n')}`);
  process.stdout.write(`bench/RESULTS.md assembled from ${parts.length} parts\n`);
}

if (assembleOnly) {
  assembleResults();
  process.exit(0);
}
const scripts = readdirSync(dir)
  .filter((name) => name.endsWith('.ts') && name !== 'run.ts' && !name.endsWith('.test.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

let failed = 0;
for (const script of scripts) {
  process.stdout.write(`\n=== bench/${script}\n`);
  const resultsFile = `${dir}results-${script.replace(/\.ts$/, '')}.md`;
  const before = existsSync(resultsFile) ? statSync(resultsFile).mtimeMs : 0;
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${script}`], {
    stdio: ['inherit', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(result.stdout ?? '');
  // A script that prints its tables but keeps no results file of its own gets one from exactly what it printed
  // on this run, so no figure in RESULTS.md is ever copied by hand.
  const wroteItsOwn = existsSync(resultsFile) && statSync(resultsFile).mtimeMs > before;
  if (result.status === 0 && !wroteItsOwn)
    writeFileSync(resultsFile, printedResults(script, result.stdout ?? ''));
  if (result.status !== 0) {
    failed += 1;
    process.stdout.write(`bench/${script} exited with ${result.status}\n`);
  }
}
assembleResults();
process.exit(failed === 0 ? 0 : 1);
