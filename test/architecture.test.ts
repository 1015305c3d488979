import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layout tells the architecture (ARCHITECTURE.md): the parts import each other one way only, and each
 * part's SQL names only its own tables. Both checks read the code itself, so a new import cycle or a query
 * on another part's table fails here, with the offending file named.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const parts = [
  'core',
  'store',
  'media',
  'kb',
  'nlu',
  'speech',
  'models',
  'calls',
  'voicebot',
  'telephony',
  'inquiries',
  'admin',
  'cli',
];

describe('architecture', () => {
  test('no import cycle between folders, voicebot and telephony apart, neutral parts neutral', () => {
    const bin = join(root, 'node_modules/.bin/depcruise');
    const run = spawnSync(bin, ['-c', '.dependency-cruiser.cjs', '--output-type', 'err', ...parts], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, `dependency rules broken:\n${run.stdout}${run.stderr}`);
  });

  test('each part names only its own tables in SQL, and every table has one owner', (t) => {
    const { owner, dropped } = tableOwners();
    const names = [...owner.keys(), ...dropped].sort((a, b) => b.length - a.length);
    const sqlRef = new RegExp(
      String.raw`\b(?:from|join|into|update|table|view|exists|only)\s+(?:if\s+(?:not\s+)?exists\s+)?(${names.join('|')})\b`,
      'gi',
    );
    const foreign: string[] = [];
    const named = new Map<string, Set<string>>();
    for (const part of parts) {
      for (const file of sourceFiles(join(root, part))) {
        const text = stripComments(readFileSync(file, 'utf8'), file.endsWith('.sql'));
        for (const m of text.matchAll(sqlRef)) {
          const table = (m[1] ?? '').toLowerCase();
          if (!named.has(part)) named.set(part, new Set());
          named.get(part)?.add(table);
          const own = owner.get(table);
          // A dropped table may still be read by the upgrade that moves its rows to the new owner.
          if (own === undefined && dropped.has(table) && file.endsWith('.sql')) continue;
          if (own !== part)
            foreign.push(`${relative(root, file)}: ${m[0].trim()} (owner: ${own ?? 'dropped'})`);
        }
      }
    }
    for (const [part, tables] of named) t.diagnostic(`${part}: ${[...tables].sort().join(', ')}`);
    assert.deepEqual(foreign, [], 'SQL on another part’s table: go through the owner’s functions');
  });
});

/** Owner of every table and view: the part whose migration creates it; tables a later migration drops. */
function tableOwners(): { owner: Map<string, string>; dropped: Set<string> } {
  const owner = new Map<string, string>();
  const dropped = new Set<string>();
  const migrations = parts
    .flatMap((part) => {
      const dir = join(root, part, 'migrations');
      let names: string[] = [];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.sql'));
      } catch {}
      return names.map((name) => ({ part, name, path: join(dir, name) }));
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const m of migrations) {
    const sql = stripComments(readFileSync(m.path, 'utf8'), true);
    for (const c of sql.matchAll(
      /\bcreate\s+(?:or\s+replace\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?([a-z_]+)/gi,
    )) {
      const table = (c[1] ?? '').toLowerCase();
      const before = owner.get(table);
      assert.ok(
        before === undefined || before === m.part,
        `${m.part}/${m.name} creates ${table}, owned by ${before}`,
      );
      owner.set(table, m.part);
      dropped.delete(table);
    }
    for (const d of sql.matchAll(/\bdrop\s+(?:table|view)\s+(?:if\s+exists\s+)?([a-z_]+)/gi)) {
      const table = (d[1] ?? '').toLowerCase();
      assert.equal(owner.get(table), m.part, `${m.part}/${m.name} drops ${table}, not its own`);
      owner.delete(table);
      dropped.add(table);
    }
  }
  return { owner, dropped };
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'npm-stubs', 'testing', 'fixtures', 'ui'].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|sql)$/.test(name) && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function stripComments(text: string, sql: boolean): string {
  const noBlocks = text.replace(/\/\*[\s\S]*?\*\//g, ' ');
  return sql ? noBlocks.replace(/--.*$/gm, ' ') : noBlocks.replace(/^\s*\/\/.*$/gm, ' ');
}
