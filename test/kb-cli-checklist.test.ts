/**
 * `otklik kb export` / `otklik kb import` (../shared/contracts/cli.md) with the checklist section, through the
 * real command on an embedded store: the export carries it, importing the export says how many items it
 * wrote and gives the same file back, and a file without the section keeps the checklist.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { smallFixturePath } from '../kb/fixtures/index.js';

const root = new URL('../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'otklik-kb-cli-'));
const { DATABASE_URL: _url, ...env } = process.env;
const otklik = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/otklik.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...env, OTKLIK_DATA_DIR: join(work, 'data'), LOG_LEVEL: 'fatal' },
  });
const section = (yaml: string) => yaml.slice(yaml.indexOf('\nchecklist:\n'));

describe('kb export / kb import with the checklist (the CLI)', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('exports the checklist, imports it back byte for byte, and keeps it for a file without it', () => {
    const first = join(work, 'first.yaml');
    let res = otklik('kb', 'import', smallFixturePath);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /чек-лист оценки не изменён \(в файле его нет\)/);
    res = otklik('kb', 'export', '--out', first);
    assert.equal(res.status, 0, res.stderr);
    const exported = readFileSync(first, 'utf8');
    assert.match(exported, /\nchecklist:\n {2}- id: greeting\n/);
    res = otklik('kb', 'import', first);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /пунктов чек-листа оценки 5\n/);
    res = otklik('kb', 'export');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout, exported);
    // Retire one in the file: the import keeps it retired; a file without the section leaves that be.
    const edited = join(work, 'edited.yaml');
    spawnSync('sh', [
      '-c',
      `sed 's/^    position: 4$/    position: 4\\n    retired: true/' ${first} > ${edited}`,
    ]);
    assert.equal(otklik('kb', 'import', edited).status, 0);
    assert.equal(otklik('kb', 'import', smallFixturePath).status, 0);
    const after = otklik('kb', 'export').stdout;
    assert.equal(section(after), section(readFileSync(edited, 'utf8')));
    assert.match(section(after), /position: 4\n {4}retired: true\n/);
  });
});
