import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOtklikError } from '../../core/errors.js';
import { findExecutable, runProgram } from './process.js';

describe('running engine programs', () => {
  for (const inThread of [false, true]) {
    const where = inThread ? 'on the main thread' : 'through the spawn worker';
    it(`returns stdout and feeds stdin ${where}`, async () => {
      const { stdout } = await runProgram('cat', [], { input: 'привет', inThread });
      assert.equal(stdout.toString('utf8'), 'привет');
    });

    it(`reports a failing program, a timeout and a cancellation ${where}`, async () => {
      await assert.rejects(
        runProgram('sh', ['-c', 'echo broken >&2; exit 3'], { inThread }),
        (err) =>
          isOtklikError(err, 'ENGINE_FAILED') && /exited with 3: broken/.test(err.message) && err.retryable,
      );
      await assert.rejects(runProgram('sleep', ['5'], { timeoutMs: 100, inThread }), (err) =>
        isOtklikError(err, 'TIMEOUT'),
      );
      const controller = new AbortController();
      const run = runProgram('sleep', ['5'], { signal: controller.signal, inThread });
      controller.abort();
      await assert.rejects(run, (err) => isOtklikError(err, 'CANCELLED'));
      await assert.rejects(runProgram('/nonexistent/tts-binary', [], { inThread }), (err) =>
        isOtklikError(err, 'ENGINE_FAILED'),
      );
    });
  }

  it('finds executables on PATH', () => {
    assert.ok(findExecutable('sh'));
    assert.equal(findExecutable('no-such-program-otklik'), null);
  });
});
