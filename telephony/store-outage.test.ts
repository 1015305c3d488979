import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { getCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import type { CallMetadata } from '../media/call-leg.js';
import { openSql, type Sql } from '../store/sql.js';
import { openTestDb, type TestDb, testDatabaseUrl } from '../test/support/db.js';
import { CallControl } from './call-control.js';
import { FreeswitchControl } from './fsmrf.js';
import { OperatorQueue } from './queue.js';
import { BotSocket, eventually } from './testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from './testing/fake-freeswitch.js';

/**
 * A database outage while calls come in and go on. The store is the real PostgreSQL server, reached through
 * a loopback TCP relay that the test cuts: every open connection drops and new ones are refused, as when the
 * database host goes away. The caller must never be left in silence.
 */
class TcpRelay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** The database host goes away. */
  async cut(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      for (const s of this.sockets) s.destroy();
    });
  }
}

const OPERATOR = 'sip:duty@10.0.0.40';

describe('call control during a database outage', () => {
  let db: TestDb;
  let fs: FakeFreeswitch;
  let control: FreeswitchControl;
  let bot: BotSocket;
  let botUrl: string;
  let dir: string;
  let relay: TcpRelay;
  let sql: Sql;
  let calls: CallControl | undefined;
  let prompts: ReturnType<typeof silentPromptFiles>;

  before(async () => {
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-outage-'));
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs') });
    await fs.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    bot = new BotSocket();
    botUrl = await bot.start();
    prompts = silentPromptFiles(dir);
    fs.dialOutcomes.set('sofia/external/duty@10.0.0.40', 'answer');
  });
  afterEach(async () => {
    calls?.release();
    await sql?.close().catch(() => {});
  });
  after(async () => {
    control.close();
    await bot.stop();
    await fs.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A telephony instance whose store goes through a fresh relay to the test's schema. */
  async function line(fallbackOperatorUri?: string): Promise<CallControl> {
    const server = new URL(testDatabaseUrl);
    relay = new TcpRelay({ host: server.hostname, port: Number(server.port || 5432) });
    const port = await relay.start();
    server.host = `127.0.0.1:${port}`;
    sql = await openSql({ url: server.toString(), ...(db.schema ? { schema: db.schema } : {}) });
    calls = new CallControl({
      sql,
      instanceId: 'telephony-outage',
      control,
      queue: new OperatorQueue(sql, { waitNormMs: 60_000 }),
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      mediaSocketUrl: botUrl,
      mediaSocketSecret: 'media-socket-test-secret',
      forwardTimeoutMs: 5_000,
      prompts,
      fallbackOperatorUri,
    });
    return calls;
  }

  function meta(): CallMetadata {
    return { callId: randomUUID(), from: '+79001234567', to: '122', startedAt: new Date(), channel: 'sip' };
  }

  it('the database goes down mid-call and the bot with it: the caller hears the apology and reaches the duty operator', async () => {
    const calls = await line(OPERATOR);
    const uuid = fs.addChannel();
    const m = meta();
    await calls.handleInbound(uuid, m);
    const conn = await eventually(() => bot.byCall(m.callId), 'the bot receives the call');
    assert.ok(
      (await getCall(db.sql, m.callId))?.sip?.answeredAt,
      'the CDR was written while the store was up',
    );

    await relay.cut();
    conn.ws.terminate();
    await eventually(
      () => fs.played.some((p) => p.uuid === uuid && p.file === prompts.technical_fallback),
      'the caller hears the recorded apology',
    );
    await eventually(
      () => fs.commands.some((c) => c.startsWith(`uuid_bridge ${uuid} `)),
      'the caller is bridged to the duty operator without the queue',
    );
    assert.ok(!fs.commands.includes(`uuid_kill ${uuid} NORMAL_CLEARING`), 'the caller was not hung up');
    fs.hangup(uuid);
  });

  it('a call that arrives while the database is down, with no operator to fall back on, hears a recorded message', async () => {
    const calls = await line(undefined);
    await relay.cut();
    const uuid = fs.addChannel();
    const m = meta();
    await calls.handleInbound(uuid, m);
    const conn = await eventually(
      () => bot.byCall(m.callId),
      'the call is still answered and forked to the bot',
    );
    conn.ws.terminate();
    await eventually(
      () => fs.played.some((p) => p.uuid === uuid && p.file === prompts.service_unavailable),
      'the caller hears that the line cannot take the call now and when to call 112',
    );
    assert.ok(
      !fs.played.some((p) => p.uuid === uuid && p.file === prompts.technical_fallback),
      'no promise of an operator that cannot come',
    );
    await eventually(
      () => fs.commands.includes(`uuid_kill ${uuid} NORMAL_CLEARING`),
      'then the line hangs up',
    );
  });
});
