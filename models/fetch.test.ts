import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { fetchModel } from './fetch.js';
import { loadManifest, type Manifest, parseManifest } from './manifest.js';
import { type Progress, silentProgress } from './progress.js';
import { allModelStatuses, formatStatusTable, modelStatus } from './status.js';
import { startFileServer, type TestFileServer } from './testing/file-server.js';
import { buildZip } from './testing/zip-writer.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const unzipMissing = spawnSync('unzip', ['-v']).error ? 'the unzip program is not installed' : false;

const voice = randomBytes(300_000);
const voiceConfig = Buffer.from('{"audio":{"sample_rate":22050}}');
const modelFiles = {
  'am/final.mdl': randomBytes(50_000),
  'conf/model.conf': Buffer.from('--min-active=200\n'),
};
const goodZip = buildZip({
  'test-model-1/': Buffer.alloc(0),
  'test-model-1/am/final.mdl': modelFiles['am/final.mdl'],
  'test-model-1/conf/model.conf': modelFiles['conf/model.conf'],
});
const tamperedZip = buildZip({
  'test-model-1/am/final.mdl': randomBytes(50_000),
  'test-model-1/conf/model.conf': modelFiles['conf/model.conf'],
});

let server: TestFileServer;
let manifest: Manifest;

function manifestFor(s: TestFileServer): Manifest {
  const zipFiles = Object.entries(modelFiles).map(([path, data]) => ({
    path,
    size: data.length,
    sha256: sha(data),
  }));
  const base = { kind: 'asr' as const, engine: 'vosk', description: 'test', licence: 'test' };
  return parseManifest({
    models: [
      {
        ...base,
        name: 'test-voice',
        kind: 'tts',
        installDir: 'voices',
        files: [
          { path: 'v.onnx', url: s.url('/v.onnx'), size: voice.length, sha256: sha(voice) },
          {
            path: 'v.onnx.json',
            url: s.url('/v.onnx.json'),
            size: voiceConfig.length,
            sha256: sha(voiceConfig),
          },
        ],
      },
      {
        ...base,
        name: 'test-voice-bad',
        installDir: 'voices-bad',
        files: [
          { path: 'v.onnx', url: s.url('/v.onnx'), size: voice.length, sha256: sha(Buffer.from('other')) },
        ],
      },
      {
        ...base,
        name: 'test-model-1',
        installDir: 'test-model-1',
        archive: { url: s.url('/model.zip'), format: 'zip', sha256: null, size: null },
        files: zipFiles,
      },
      {
        ...base,
        name: 'test-model-tampered',
        installDir: 'test-model-tampered',
        archive: { url: s.url('/tampered.zip'), format: 'zip', sha256: null, size: null },
        files: zipFiles,
      },
      {
        ...base,
        name: 'test-model-unknown-sums',
        installDir: 'test-model-unknown-sums',
        archive: { url: s.url('/model.zip'), format: 'zip', sha256: null, size: null },
        files: [],
      },
    ],
  });
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'otklik-models-'));
}

describe('models fetch and status against a local HTTP server', () => {
  before(async () => {
    server = await startFileServer({
      '/v.onnx': voice,
      '/v.onnx.json': voiceConfig,
      '/model.zip': goodZip,
      '/tampered.zip': tamperedZip,
    });
    manifest = manifestFor(server);
  });
  after(() => server.close());

  test('the shipped manifest is valid and lists the Vosk models and four Piper voices', () => {
    const shipped = loadManifest();
    const names = shipped.models.map((m) => m.name);
    for (const name of ['vosk-model-small-ru-0.22', 'vosk-model-ru-0.42'])
      assert.ok(names.includes(name), name);
    assert.equal(shipped.models.filter((m) => m.engine === 'piper').length, 4);
    const small = shipped.models.find((m) => m.name === 'vosk-model-small-ru-0.22')!;
    assert.ok(small.files.some((f) => f.path === 'am/final.mdl' && f.sha256?.length === 64));
  });

  test('fetches single files, verifies them and reports them verified', async () => {
    const dir = freshDir();
    assert.equal((await modelStatus(dir, manifest.models[0]!)).state, 'missing');
    const result = await fetchModel('test-voice', { modelsDir: dir, manifest, progress: silentProgress });
    assert.equal(result.downloaded, true);
    assert.equal(result.status.state, 'verified');
    assert.deepEqual(readFileSync(join(dir, 'voices/v.onnx')), voice);
    const again = await fetchModel('test-voice', { modelsDir: dir, manifest, progress: silentProgress });
    assert.equal(again.downloaded, false, 'a verified model is not downloaded again');
    rmSync(dir, { recursive: true });
  });

  test('resumes an interrupted download with a Range request', async () => {
    const dir = freshDir();
    server.cutNextAfter('/v.onnx', 100_000);
    const before = server.ranges.get('/v.onnx')?.length ?? 0;
    await assert.rejects(
      fetchModel('test-voice', { modelsDir: dir, manifest, progress: silentProgress }),
      (err) =>
        isOtklikError(err, 'UNAVAILABLE') && err.retryable && /run the same command again/.test(err.message),
    );
    assert.ok(!existsSync(join(dir, 'voices/v.onnx')), 'nothing is installed from a partial download');
    const partSize = statSync(join(dir, 'downloads/test-voice-v.onnx.part')).size;
    assert.ok(partSize > 0 && partSize < voice.length);
    const result = await fetchModel('test-voice', { modelsDir: dir, manifest, progress: silentProgress });
    assert.equal(result.status.state, 'verified');
    assert.equal(result.resumedFrom, partSize);
    const requests = server.ranges.get('/v.onnx')!.slice(before);
    assert.deepEqual(requests, [undefined, `bytes=${partSize}-`]);
    assert.deepEqual(readFileSync(join(dir, 'voices/v.onnx')), voice);
    rmSync(dir, { recursive: true });
  });

  test('rejects a checksum mismatch and installs nothing', async () => {
    const dir = freshDir();
    await assert.rejects(
      fetchModel('test-voice-bad', { modelsDir: dir, manifest, progress: silentProgress }),
      (err) => isOtklikError(err, 'MODEL_BROKEN') && /checksum mismatch/.test(err.message),
    );
    assert.ok(!existsSync(join(dir, 'voices-bad/v.onnx')));
    assert.ok(!existsSync(join(dir, 'downloads/test-voice-bad-v.onnx.part')), 'the bad download is deleted');
    rmSync(dir, { recursive: true });
  });

  test('names the known models when asked for an unknown one', async () => {
    await assert.rejects(
      fetchModel('no-such-model', { modelsDir: freshDir(), manifest, progress: silentProgress }),
      (err) =>
        isOtklikError(err, 'NOT_FOUND') && /unknown model "no-such-model".*test-voice/.test(err.message),
    );
  });

  test('unpacks a zip, verifies each file and installs the model folder', {
    skip: unzipMissing,
  }, async () => {
    const dir = freshDir();
    const result = await fetchModel('test-model-1', { modelsDir: dir, manifest, progress: silentProgress });
    assert.equal(result.status.state, 'verified');
    assert.deepEqual(readFileSync(join(dir, 'test-model-1/am/final.mdl')), modelFiles['am/final.mdl']);
    assert.ok(
      !existsSync(join(dir, 'downloads/test-model-1.zip.part')),
      'the archive is removed after install',
    );
    // A file changed after install is noticed by a verifying status.
    writeFileSync(join(dir, 'test-model-1/conf/model.conf'), 'changed\n');
    assert.equal((await modelStatus(dir, manifest.models[2]!, true)).state, 'checksum_mismatch');
    rmSync(dir, { recursive: true });
  });

  test('does not install a zip whose files fail their checksums', { skip: unzipMissing }, async () => {
    const dir = freshDir();
    await assert.rejects(
      fetchModel('test-model-tampered', { modelsDir: dir, manifest, progress: silentProgress }),
      (err) => isOtklikError(err, 'MODEL_BROKEN') && /am\/final\.mdl/.test(err.message),
    );
    assert.ok(!existsSync(join(dir, 'test-model-tampered')));
    rmSync(dir, { recursive: true });
  });

  test('a model without published checksums is reported unverified after fetch', {
    skip: unzipMissing,
  }, async () => {
    const dir = freshDir();
    const entry = manifest.models[4]!;
    assert.equal((await modelStatus(dir, entry)).state, 'missing');
    await fetchModel(entry.name, { modelsDir: dir, manifest, progress: silentProgress });
    const status = await modelStatus(dir, entry);
    assert.equal(status.state, 'unverified');
    assert.match(status.detail, new RegExp(`archive sha256 ${sha(goodZip)}`));
    const table = formatStatusTable(await allModelStatuses(dir, manifest));
    assert.match(table, /^MODEL\s+KIND\s+STATE/);
    assert.match(table, /test-model-unknown-sums\s+asr\s+unverified/);
    rmSync(dir, { recursive: true });
  });

  test('reports progress as the bytes arrive', async () => {
    const dir = freshDir();
    const seen: number[] = [];
    const progress = (): Progress => ({ update: (done) => seen.push(done), finish() {} });
    await fetchModel('test-voice', { modelsDir: dir, manifest, progress });
    assert.ok(seen.length >= 2);
    assert.ok(seen.includes(voice.length));
    rmSync(dir, { recursive: true });
  });
});
