import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile } from './stats.js';

describe('percentile (nearest rank)', () => {
  it('is the ⌈p·n⌉-th smallest value, always one of the values', () => {
    const waits = [80, 10, 30, 30];
    assert.equal(percentile(waits, 90), 80); // ⌈3.6⌉ = 4th, not the interpolated 65
    assert.equal(percentile(waits, 50), 30);
    assert.equal(percentile(waits, 25), 10);
    assert.equal(percentile(waits, 0), 10);
    assert.equal(percentile(waits, 100), 80);
    assert.equal(percentile([10, 90], 90), 90);
    assert.deepEqual(waits, [80, 10, 30, 30], 'the input is left as it was');
  });

  it('has no value for no samples', () => {
    assert.ok(Number.isNaN(percentile([], 90)));
  });
});
