import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress } from './progress.js';

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { out: { isTTY, columns: 80, write: (s: string) => written.push(s) }, written };
}

test('on a terminal the progress bar redraws one line and ends with a newline', () => {
  const { out, written } = sink(true);
  const p = createProgress('vosk-model-small-ru-0.22', out);
  p.update(0, 2 * 1024 * 1024);
  p.update(2 * 1024 * 1024, 2 * 1024 * 1024);
  p.finish('installed');
  assert.ok(written[0]!.startsWith('\rvosk-model-small-ru-0.22 ['));
  assert.match(written[1]!, /\[#+\] 100% 2\.0 MB\/2\.0 MB$/);
  assert.match(written.at(-1)!, /vosk-model-small-ru-0\.22: installed\n$/);
});

test('in a log the progress is one line per 10 %, without carriage returns', () => {
  const { out, written } = sink(false);
  const p = createProgress('voice', out);
  for (let done = 0; done <= 100; done += 1) p.update(done * 1024, 100 * 1024);
  p.finish('downloaded');
  assert.equal(written.length, 12);
  assert.ok(written.every((line) => !line.includes('\r') && line.endsWith('\n')));
  assert.equal(written[5], 'voice: 50% (0.0 MB of 0.1 MB)\n');
});
