import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectMediaServer, dialString, FreeswitchControl, type FsEvent, fsCommands } from './fsmrf.js';
import { FakeFreeswitch } from './testing/fake-freeswitch.js';

const uuid = '4d9c3a52-1b1e-4c55-9a60-2f1f7c1f0a11';

describe('FreeSWITCH command strings', () => {
  it('builds the mod_audio_fork start/stop/send_text commands', () => {
    assert.equal(
      fsCommands.audioForkStart(uuid, 'ws://127.0.0.1:8123/call', {
        callId: 'c1',
        from: '+7 900',
        to: '122',
      }),
      `uuid_audio_fork ${uuid} start ws://127.0.0.1:8123/call mono 8k {"callId":"c1","from":"+7 900","to":"122"}`,
    );
    assert.equal(fsCommands.audioForkStop(uuid), `uuid_audio_fork ${uuid} stop`);
    assert.equal(
      fsCommands.audioForkSendText(uuid, { type: 'forward_result', status: 'busy' }),
      `uuid_audio_fork ${uuid} send_text {"type":"forward_result","status":"busy"}`,
    );
    assert.doesNotMatch(fsCommands.audioForkStart(uuid, 'ws://h/x', { text: 'две\nстроки' }), /\n/);
  });

  it('builds break, record, play, bridge, kill and originate', () => {
    assert.equal(fsCommands.break(uuid), `uuid_break ${uuid} all`);
    assert.equal(fsCommands.setVar(uuid, 'RECORD_STEREO', 'true'), `uuid_setvar ${uuid} RECORD_STEREO true`);
    assert.equal(fsCommands.recordStart(uuid, '/rec/c1.wav'), `uuid_record ${uuid} start /rec/c1.wav`);
    assert.equal(fsCommands.recordStop(uuid, '/rec/c1.wav'), `uuid_record ${uuid} stop /rec/c1.wav`);
    assert.equal(fsCommands.playFile(uuid, '/tmp/p.wav'), `uuid_broadcast ${uuid} /tmp/p.wav aleg`);
    assert.equal(fsCommands.bridge(uuid, 'b-leg'), `uuid_bridge ${uuid} b-leg`);
    assert.equal(fsCommands.kill(uuid), `uuid_kill ${uuid} NORMAL_CLEARING`);
    assert.equal(fsCommands.hold('b-leg', true), 'uuid_hold b-leg');
    assert.equal(fsCommands.hold('b-leg', false), 'uuid_hold off b-leg');
    assert.equal(
      fsCommands.originate({
        uuid: 'sv-leg',
        dialString: 'sofia/external/sv@10.0.0.40',
        timeoutMs: 20_000,
        eavesdrop: uuid,
      }),
      `originate {origination_uuid=sv-leg,originate_timeout=20,ignore_early_media=true,media_timeout=300000}sofia/external/sv@10.0.0.40 &eavesdrop(${uuid})`,
    );
    assert.equal(
      fsCommands.originate({
        uuid: 'b-leg',
        dialString: 'sofia/gateway/carrier/+74951234567',
        timeoutMs: 25_500,
        callerIdNumber: '122',
      }),
      'originate {origination_uuid=b-leg,originate_timeout=26,ignore_early_media=true,media_timeout=300000,origination_caller_id_number=122}sofia/gateway/carrier/+74951234567 &park()',
    );
    assert.deepEqual(fsCommands.recordSessionApp('/rec/c1.wav'), {
      app: 'record_session',
      arg: '/rec/c1.wav',
    });
    assert.deepEqual(fsCommands.bridgeApp('sofia/external/op1@10.0.0.5'), {
      app: 'bridge',
      arg: 'sofia/external/op1@10.0.0.5',
    });
  });

  it('refuses arguments that would change the command', () => {
    assert.throws(() => fsCommands.kill('abc; uuid_kill all'), { code: 'VALIDATION_FAILED' });
    assert.throws(() => fsCommands.hold('a) &park(', true), { code: 'VALIDATION_FAILED' });
    assert.throws(
      () =>
        fsCommands.originate({ uuid: 'x', dialString: 'sofia/external/a', timeoutMs: 1, eavesdrop: 'a)b(' }),
      { code: 'VALIDATION_FAILED' },
    );
    assert.throws(() => fsCommands.recordStart(uuid, '/rec/a b.wav'), { code: 'VALIDATION_FAILED' });
    assert.throws(() => fsCommands.audioForkStart(uuid, 'http://x', {}), { code: 'VALIDATION_FAILED' });
  });

  it('turns numbers and SIP URIs into dial strings', () => {
    assert.equal(
      dialString('+7 (495) 123-45-67', 'sofia/gateway/carrier'),
      'sofia/gateway/carrier/+74951234567',
    );
    assert.equal(dialString('sip:op1@10.0.0.5', undefined), 'sofia/external/op1@10.0.0.5');
    assert.equal(
      dialString('sip:op1@10.0.0.5;transport=tls', undefined),
      'sofia/external/op1@10.0.0.5;transport=tls',
    );
    assert.equal(
      dialString('sips:op1@pbx.example', undefined),
      'sofia/external/op1@pbx.example;transport=tls',
    );
    assert.throws(() => dialString('+74951234567', undefined), { code: 'CONFIG_INVALID' });
    assert.throws(() => dialString('позвоните мне', 'sofia/gateway/x'), { code: 'VALIDATION_FAILED' });
  });
});

describe('FreeSWITCH event socket through drachtio-modesl and drachtio-fsmrf', () => {
  let fs: FakeFreeswitch;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-fsmrf-'));
    fs = new FakeFreeswitch({ tmpDir: dir });
    await fs.start();
  });
  after(async () => {
    await fs.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates, runs api commands and reports -ERR as an error', async () => {
    const control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    try {
      assert.match(await control.api('status'), /^UP/);
      const ch = fs.addChannel();
      assert.equal(await control.api(fsCommands.setVar(ch, 'RECORD_STEREO', 'true')), '+OK');
      await assert.rejects(control.api(fsCommands.break('no-such-channel')), {
        code: 'ENGINE_FAILED',
        message: /No such channel/,
      });
      assert.ok(fs.commands.includes(`uuid_setvar ${ch} RECORD_STEREO true`));
    } finally {
      control.close();
    }
  });

  it('rejects a wrong secret with a clear error', async () => {
    await assert.rejects(FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'wrong' }), {
      code: 'UNAVAILABLE',
      message: /authentication failed/,
    });
  });

  it('routes a channel’s events to its listener and runs originate in the background', async () => {
    const control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    try {
      const a = fs.addChannel();
      const b = fs.addChannel();
      const seen: FsEvent[] = [];
      const got = new Promise<void>((resolve) =>
        control.onChannel(a, (e) => {
          seen.push(e);
          if (e.name === 'DTMF') resolve();
        }),
      );
      control.onChannel(b, () => assert.fail('event of another channel'));
      await control.api('status'); // the subscription is in place once a later command is answered
      fs.dtmf(a, '5');
      await got;
      assert.equal(seen.at(-1)!.header('DTMF-Digit'), '5');

      fs.dialOutcomes.set('sofia/gateway/carrier/+74950000001', 'USER_BUSY');
      const busy = await control.bgapi(
        fsCommands.originate({
          uuid: 'c-busy',
          dialString: 'sofia/gateway/carrier/+74950000001',
          timeoutMs: 5000,
        }),
      );
      assert.equal(busy, '-ERR USER_BUSY');
    } finally {
      control.close();
    }
  });

  it('connects fsmrf’s MediaServer and finds the drachtio_mrf profile', async () => {
    const { ms, control } = await connectMediaServer(null, {
      host: '127.0.0.1',
      port: fs.port,
      secret: 'ClueCon',
    });
    try {
      assert.ok(fs.commands.includes('sofia status'));
      assert.match(await control.api('status'), /ready/);
    } finally {
      ms.disconnect();
    }
  });
});
