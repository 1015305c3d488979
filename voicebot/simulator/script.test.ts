import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOtklikError } from '../../core/errors.js';
import { checkExpectations, parseCallerScript } from './script.js';

describe('caller scripts', () => {
  it('parses the contract example', () => {
    const script = parseCallerScript(
      [
        'caller: "+79991234567"',
        'number: "122"',
        'at: "2026-11-23T22:30:00+03:00"',
        'turns:',
        '  - say: "алло здравствуйте хочу записаться к терапевту"',
        '  - dtmf: "1"',
        '  - silence_ms: 8000',
        '  - hangup: true',
        'expect:',
        '  outcome: answered',
        '  intents: [health.appointment]',
      ].join('\n'),
    );
    assert.equal(script.turns.length, 4);
    assert.deepEqual(script.turns[1], { dtmf: '1' });
  });

  it('names the file, line and field of a mistake', () => {
    const text = ['turns:', '  - say: "да"', '  - dtmf: "12x"', 'expect:', '  outcome: happy'].join('\n');
    assert.throws(
      () => parseCallerScript(text, 'call.yaml'),
      (err) =>
        isOtklikError(err, 'VALIDATION_FAILED') &&
        /call\.yaml:3: turns\.1/.test(err.message) &&
        /call\.yaml:5: expect\.outcome/.test(err.message),
    );
    assert.throws(() => parseCallerScript('turns: [', 'bad.yaml'), /bad\.yaml:1: not valid YAML/);
    assert.throws(
      () => parseCallerScript('turns:\n  - sing: "ля"', 's.yaml'),
      /s\.yaml:2: turns\.0: a turn is one of/,
    );
  });

  it('checks expectations: outcome exactly, intents as a prefix', () => {
    const script = parseCallerScript(
      'turns:\n  - say: "да"\nexpect:\n  outcome: answered\n  intents: [health]',
    );
    const result = {
      outcome: 'answered' as const,
      intents: ['health.appointment', 'dialog.no'],
      transcript: [],
      answers: [],
    };
    assert.deepEqual(checkExpectations(script, result), []);
    const problems = checkExpectations(script, { ...result, outcome: 'hangup', intents: ['dialog.no'] });
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /outcome: expected answered, got hangup/);
  });
});
