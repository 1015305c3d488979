import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { startTelephony, type TelephonyApp } from './app.js';
import { eventually } from './testing/bot-socket.js';
import { FakeDrachtio } from './testing/fake-drachtio.js';
import { FakeFreeswitch } from './testing/fake-freeswitch.js';

/**
 * The drachtio-srf application against stand-ins for drachtio-server's admin socket and FreeSWITCH's event
 * socket, both speaking their protocols to the real drachtio-srf / drachtio-fsmrf code.
 */
describe('telephony app (drachtio-srf) admission and start-up', () => {
  let db: TestDb;
  let dir: string;
  let drachtio: FakeDrachtio;
  let fs: FakeFreeswitch;
  let app: TelephonyApp;

  const config = (overrides: Record<string, unknown> = {}) =>
    loadConfig(
      {},
      {
        dataDir: dir,
        'telephony.drachtioHost': '127.0.0.1',
        'telephony.drachtioPort': drachtio.port,
        'telephony.freeswitchPort': fs.port,
        'telephony.recordingsDir': join(dir, 'recordings'),
        'telephony.numbers': ['122', '+78002000122'],
        'telephony.operatorUri': 'sip:operators@10.0.0.30',
        'telephony.drainTimeoutMs': 100,
        ...overrides,
      },
    );

  before(async () => {
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-app-'));
    drachtio = new FakeDrachtio();
    await drachtio.start();
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs') });
    await fs.start();
    app = await startTelephony(config(), { sql: db.sql, log: silentLogger, mediaSocketSecret: undefined });
  });
  after(async () => {
    await app?.close();
    await drachtio.stop();
    await fs.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates to drachtio-server, asks for INVITEs and registers the configured operator URI', async () => {
    await eventually(() => drachtio.routes.includes('invite'), 'route|invite received');
    assert.ok(fs.commands.includes('sofia status'), 'fsmrf found the drachtio_mrf profile');
    const op = await app.queue.operator('default');
    assert.equal(op?.sipUri, 'sip:operators@10.0.0.30');
    assert.equal(op?.state, 'available');
  });

  it('answers 404 for a number it does not serve', async () => {
    const callId = drachtio.invite('112', '+79001234567');
    const res = await eventually(
      () => drachtio.responses.find((r) => r.callId === callId),
      'a final response',
    );
    assert.equal(res.status, 404);
  });

  it('answers 480, not silence, when FreeSWITCH cannot give the caller an endpoint', async () => {
    const callId = drachtio.invite('122', '+79001234567');
    const res = await eventually(
      () => drachtio.responses.find((r) => r.callId === callId),
      'a final response',
      10_000,
    );
    assert.equal(res.status, 480);
    assert.ok(drachtio.outgoingRequests.some((r) => r.startsWith('INVITE sip:drachtio@127.0.0.1:5080')));
  });

  it('refuses new calls with 503 and Retry-After while draining', async () => {
    assert.deepEqual(await app.drain(), { finished: true, handedOver: [] });
    const callId = drachtio.invite('78002000122', '+79001234567');
    const res = await eventually(
      () => drachtio.responses.find((r) => r.callId === callId),
      'a final response',
    );
    assert.equal(res.status, 503);
    assert.match(res.raw, /^Retry-After: 60$/im);
  });

  it('fails start-up with a clear error for a wrong drachtio secret or no drachtio host', async () => {
    await assert.rejects(
      startTelephony(config({ 'telephony.drachtioSecret': 'wrong' }), {
        sql: db.sql,
        log: silentLogger,
        mediaSocketSecret: undefined,
      }),
      {
        code: 'UNAVAILABLE',
        message: /refused/,
      },
    );
    await assert.rejects(
      startTelephony(loadConfig({}, { dataDir: dir }), {
        sql: db.sql,
        log: silentLogger,
        mediaSocketSecret: undefined,
      }),
      {
        code: 'CONFIG_INVALID',
        message: /DRACHTIO_HOST/,
      },
    );
  });
});
