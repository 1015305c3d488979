/**
 * The README is what an operator follows on a fresh machine: every setting the configuration reads is in its
 * table, its commands work for root on Debian (no sudo there), and its links lead to files of this repository.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { envMap } from './config.js';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The one setting read outside the configuration schema: the config file itself. */
const EXTRA_SETTINGS = ['OTKLIK_CONFIG'];

describe('README', () => {
  it('documents every setting the configuration reads', () => {
    const missing = [...Object.keys(envMap), ...EXTRA_SETTINGS].filter(
      (name) => !readme.includes(`\`${name}\``),
    );
    assert.deepEqual(missing, [], 'settings missing from the README');
  });

  it('works as written for root on a fresh Debian: no sudo', () => {
    assert.ok(!/\bsudo\b/.test(readme), 'the README uses sudo');
    assert.ok(!readme.includes('../'), 'the README points at a path outside the repository');
  });

  it('links only to files inside the repository, and each exists', () => {
    const docs = [
      'README.md',
      'telephony/README.md',
      'voicebot/flow/README.md',
      'voicebot/channels/media/README.md',
    ];
    for (const doc of docs) {
      const text = readFileSync(join(root, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // http(s), mailto: outside links are not files
        const path = resolve(root, dirname(doc), target!);
        assert.ok(!relative(root, path).startsWith('..'), `${doc}: ${target} points outside the repository`);
        assert.ok(existsSync(path), `${doc}: ${target} does not exist`);
      }
    }
  });
});
