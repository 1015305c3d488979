import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { builtInDefaultFlow, defaultFlow, parseFlow } from './index.js';

describe('the built-in default flow', () => {
  it('equals the shipped default flow (kb/seed/flows.yaml) and is valid', () => {
    const seed = parseYaml(readFileSync(new URL('../../kb/seed/flows.yaml', import.meta.url), 'utf8')) as {
      flows: unknown[];
    };
    const shipped = seed.flows.find((f) => (f as { id: string }).id === 'default');
    assert.deepEqual(shipped, builtInDefaultFlow);
    assert.equal(parseFlow(shipped).start, 'greeting');
    assert.equal(defaultFlow.emergency, 'emergency');
  });
});
