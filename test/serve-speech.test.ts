/**
 * `otklik serve`'s voice calls speak through the TTS cache: the second caller's greeting is played from
 * the cache's memory tier, not synthesized again. Serve runs in this process (startServices, as `otklik
 * serve` calls it) so that the test can read the cache's counters; callers come in over the media socket
 * as FreeSWITCH's audio fork would.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServices, startServices } from '../cli/services.js';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { FsClient } from '../voicebot/channels/media/fs-client.js';

const SECRET = 'serve-speech-test-secret';

async function eventually(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('otklik serve: the TTS cache', () => {
  let dataDir: string;
  let services: RunningServices;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'otklik-serve-speech-'));
    // A trained model is kept between runs: the test is about speech, not about training the NLU.
    const nluDir = join(tmpdir(), 'otklik-test-serve-speech-nlu');
    mkdirSync(nluDir, { recursive: true });
    const config = loadConfig({
      OTKLIK_DATA_DIR: dataDir,
      NLU_MODEL_DIR: nluDir,
      HTTP_PORT: '0',
      MEDIA_SOCKET_PORT: '0',
      MEDIA_SOCKET_SECRET: SECRET,
      // No job worker: inquiries are not under test.
      REDIS_URL: 'redis://127.0.0.1:1',
      SMTP_URL: '',
      SPEECH_MEMORY_CACHE_MB: '16',
    });
    services = await startServices(config, silentLogger);
  });
  after(async () => {
    await services?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(n: number): Promise<FsClient> {
    const client = await FsClient.connect({
      url: `ws://127.0.0.1:${services.media.port}`,
      secret: SECRET,
      metadata: { callId: `serve-speech-${n}`, from: '+79990000000', to: '122' },
    });
    assert.ok(await client.waitFor((e) => e.type === 'playAudio', 20_000), 'the caller hears the bot');
    return client;
  }

  it('answers a repeated phrase from the cache: the second caller hears the greeting without a synthesis', async () => {
    const cache = services.speech?.ttsCache;
    assert.ok(cache, 'serve assembles the speech services with the memory tier of the TTS cache');
    assert.equal(cache.maxBytes, 16 * 1024 * 1024, 'sized by SPEECH_MEMORY_CACHE_MB');

    const first = await call(1);
    // The greeting is kept once it is synthesized whole (the first caller stays on the line until then).
    await eventually(() => cache.size > 0, 'the first greeting is in the cache');
    await first.hangup();
    const { hits, misses } = cache;
    assert.equal(hits, 0);

    const second = await call(2);
    assert.equal(cache.hits, hits + 1, "the second caller's greeting comes from the cache");
    assert.equal(cache.misses, misses);
    await second.hangup();
  });
});
