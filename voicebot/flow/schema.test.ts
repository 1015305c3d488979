import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { isOtklikError } from '../../core/errors.js';
import { builtInDefaultFlow, defaultFlow } from './index.js';
import { parseFlow } from './schema.js';

describe('call flow schema', () => {
  it('the shipped default flow (kb/seed/flows.yaml) equals the built-in copy and is valid', () => {
    const seed = parseYaml(readFileSync(new URL('../../kb/seed/flows.yaml', import.meta.url), 'utf8')) as {
      flows: unknown[];
    };
    const shipped = seed.flows.find((f) => (f as { id: string }).id === 'default');
    assert.deepEqual(shipped, builtInDefaultFlow);
    assert.equal(parseFlow(shipped).start, 'greeting');
    assert.equal(defaultFlow.emergency, 'emergency');
  });

  it('rejects a step that leads nowhere, naming the step and the target', () => {
    const flow = { id: 'x', steps: [{ id: 'a', type: 'say', prompt: 'greeting', next: 'missing' }] };
    assert.throws(
      () => parseFlow(flow),
      (err) =>
        isOtklikError(err, 'VALIDATION_FAILED') &&
        /steps\.a: leads to unknown step "missing"/.test(err.message),
    );
  });

  it('rejects duplicate ids and unknown step types', () => {
    const dup = {
      id: 'x',
      steps: [
        { id: 'a', type: 'hangup' },
        { id: 'a', type: 'hangup' },
      ],
    };
    assert.throws(() => parseFlow(dup), /duplicate step id/);
    assert.throws(() => parseFlow({ id: 'x', steps: [{ id: 'a', type: 'dance' }] }), /invalid call flow/);
  });

  it('fills defaults: reprompt counts, misunderstanding limit, no-input time', () => {
    const flow = parseFlow({ id: 'x', steps: [{ id: 'l', type: 'listen', on: { intent: 'l' } }] });
    const listen = flow.steps[0];
    assert.equal(listen?.type === 'listen' && listen.maxNoMatch, 2);
    assert.equal(flow.noInputMs, 6000);
  });
});
