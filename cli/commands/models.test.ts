import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function otklik(...args: string[]) {
  return spawnSync(process.execPath, ['bin/otklik.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('`otklik models status` lists every manifest model; `fetch` of an unknown name fails clearly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otklik-models-cli-'));
  try {
    const table = otklik('models', 'status', '--dir', dir);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^MODEL\s+KIND\s+STATE\s+SIZE\s+DETAIL$/m);
    assert.match(table.stdout, /^vosk-model-small-ru-0\.22\s+asr\s+missing/m);
    assert.match(table.stdout, /^piper-ru-irina-medium\s+tts\s+missing/m);

    const unknown = otklik('models', 'fetch', 'vosk-model-xx', '--dir', dir);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unknown model "vosk-model-xx"; known models: vosk-model-small-ru-0\.22/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`otklik models status` on the shipped folder: Piper voice configs pass their checksums', () => {
  // The .onnx.json configs ship in models/piper-ru byte for byte as published; a reformat would break them.
  // Without the weights (as here) a voice is incomplete; with them installed it is ready.
  const table = otklik('models', 'status');
  assert.equal(table.status, 0, table.stderr);
  for (const voice of ['irina', 'denis', 'dmitri', 'ruslan']) {
    assert.match(
      table.stdout,
      new RegExp(
        `^piper-ru-${voice}-medium\\s+tts\\s+(ready\\s.*|incomplete\\s+.*missing: ru_RU-${voice}-medium\\.onnx)$`,
        'm',
      ),
    );
  }
});
