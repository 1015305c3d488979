import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { checkFlow, type FlowReferences, parseFlow } from './flow-check.js';

const messages = (doc: unknown, refs?: FlowReferences) => checkFlow(doc, refs).issues.map((i) => i.message);

describe('call flow checks', () => {
  it('rejects a step that leads nowhere, naming the flow, the step, the field and the target', () => {
    const flow = { id: 'x', steps: [{ id: 'a', type: 'say', prompt: 'greeting', next: 'missing' }] };
    assert.throws(
      () => parseFlow(flow),
      (err) =>
        isOtklikError(err, 'VALIDATION_FAILED') &&
        err.message.includes('steps[0].next: flow "x", step "a": leads to unknown step "missing"'),
    );
  });

  it('rejects duplicate ids, unknown step types and unknown fields', () => {
    const dup = {
      id: 'x',
      steps: [
        { id: 'a', type: 'hangup' },
        { id: 'a', type: 'hangup' },
      ],
    };
    assert.deepEqual(messages(dup), ['flow "x", step "a": duplicate step id "a"']);
    assert.deepEqual(messages({ id: 'x', steps: [{ id: 'a', type: 'dance' }] }), [
      'flow "x", step "a": unknown step type "dance"',
    ]);
    assert.deepEqual(messages({ id: 'x', steps: [{ id: 'a', type: 'hangup', promt: 'goodbye' }] }), [
      'flow "x", step "a": unknown field "promt"',
    ]);
  });

  it('rejects branch cases the branch cannot meet and flow-wide steps that do not exist', () => {
    const flow = {
      id: 'x',
      operator: 'nobody',
      steps: [
        { id: 'b', type: 'branch', by: 'operators_open', cases: { да: 'h' }, default: 'h' },
        { id: 'h', type: 'hangup' },
      ],
    };
    assert.deepEqual(messages(flow), [
      'flow "x", step "b": a branch by operators_open has no case "да" (its cases: yes, no)',
      'flow "x": unknown step "nobody"',
    ]);
  });

  it('checks what the flow names in its knowledge base: prompts, menus and their outcomes, intents', () => {
    const refs: FlowReferences = {
      prompts: new Set(['greeting', 'menu']),
      intents: new Set(['service.operator']),
      menus: new Map([
        [
          'main',
          {
            prompt: 'menu',
            items: [
              { digit: '1', action: { kind: 'topic' } },
              { digit: '9', action: { kind: 'message', prompt: 'menu' } },
              { digit: '3', action: { kind: 'forward' } },
            ],
          },
        ],
      ]),
    };
    const flow = {
      id: 'x',
      steps: [
        { id: 'hello', type: 'say', prompt: 'greting', next: 'm' },
        { id: 'm', type: 'menu', on: { topic: 'r', intent: 'r' } },
        { id: 'r', type: 'branch', by: 'intent', cases: { 'service.operatr': 'end' }, default: 'end' },
        { id: 'end', type: 'hangup' },
      ],
    };
    assert.deepEqual(messages(flow, refs), [
      'flow "x", step "hello": unknown prompt "greting"',
      'flow "x", step "m": menu "main" item "3" leads to "forward", but the step has no on.forward',
      'flow "x", step "r": unknown intent "service.operatr"',
    ]);
    // A step's default prompts are not the flow's references: the shipped texts stand in for them.
    assert.deepEqual(messages({ id: 'x', steps: [{ id: 'c', type: 'confirm', on: {} }] }, refs), []);
    assert.deepEqual(messages({ id: 'x', steps: [{ id: 'm', type: 'menu', menu: 'sub', on: {} }] }, refs), [
      'flow "x", step "m": unknown menu "sub"',
    ]);
  });

  it('fills defaults: the start, reprompt counts, misunderstanding limit, no-input time', () => {
    const flow = parseFlow({ id: 'x', steps: [{ id: 'l', type: 'listen', on: { intent: 'l' } }] });
    const listen = flow.steps[0];
    assert.equal(listen?.type === 'listen' && listen.maxNoMatch, 2);
    assert.equal(flow.start, 'l');
    assert.equal(flow.noInputMs, 6000);
  });
});
