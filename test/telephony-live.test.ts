import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { startTelephony, type TelephonyApp } from '../telephony/app.js';
import type { CallLegEvent } from '../telephony/call-leg.js';
import { recordingsOfCall } from '../telephony/records.js';
import { eventually } from '../telephony/testing/bot-socket.js';
import { rtpPcap } from '../telephony/testing/rtp-pcap.js';
import type { MediaLeg } from '../voicebot/channels/media/media-leg.js';
import { type MediaSocket, startMediaSocket } from '../voicebot/channels/media/server.js';
import { openTestDb, type TestDb } from './support/db.js';

/**
 * A real call through drachtio-server and FreeSWITCH (with mod_audio_fork), when both are reachable:
 * DRACHTIO_HOST (admin port DRACHTIO_PORT, default 9022) and FREESWITCH_HOST (event socket 8021), FreeSWITCH
 * configured from telephony/freeswitch/. sipp (Debian: sip-tester) calls 122 with synthesized Russian speech and
 * RFC 2833 key 1; a second sipp answers as the agency. Skipped, saying why, where they are not running (CI).
 */
const drachtioHost = process.env.DRACHTIO_HOST ?? '127.0.0.1';
const drachtioPort = Number(process.env.DRACHTIO_PORT ?? 9022);
const fsHost = process.env.FREESWITCH_HOST ?? '127.0.0.1';
const fsPort = Number(process.env.FREESWITCH_PORT ?? 8021);
const sipPort = Number(process.env.DRACHTIO_SIP_PORT ?? 5060);
const agencyPort = 5099;

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

async function skipReason(): Promise<string | false> {
  if (spawnSync('sipp', ['-v']).error) return 'sipp is not installed (Debian package sip-tester)';
  if (spawnSync('espeak-ng', ['--version']).error) return 'espeak-ng is not installed';
  if (!(await reachable(drachtioHost, drachtioPort))) {
    return `drachtio-server is not reachable at ${drachtioHost}:${drachtioPort} (set DRACHTIO_HOST)`;
  }
  if (!(await reachable(fsHost, fsPort)))
    return `FreeSWITCH event socket is not reachable at ${fsHost}:${fsPort}`;
  return false;
}

const skip = await skipReason();
if (skip) process.stderr.write(`telephony-live: skipped: ${skip}\n`);

/** Russian speech from espeak-ng, 8 kHz PCM16 (the caller's words in the pcap). */
function speech(text: string): Int16Array {
  const r = spawnSync('espeak-ng', ['-v', 'ru', '--stdout', text], { maxBuffer: 16 * 1024 * 1024 });
  const wav = r.stdout as Buffer;
  const rate = wav.readUInt32LE(24);
  const pcm = new Int16Array(
    wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length - ((wav.length - 44) % 2)),
  );
  const out = new Int16Array(Math.floor((pcm.length * 8000) / rate));
  for (let i = 0; i < out.length; i++) out[i] = pcm[Math.floor((i * rate) / 8000)] ?? 0;
  return out;
}

describe('live call through drachtio-server and FreeSWITCH', { skip }, () => {
  let db: TestDb;
  let dir: string;
  let media: MediaSocket;
  let app: TelephonyApp;
  const events: CallLegEvent[] = [];
  let botLeg: MediaLeg | null = null;

  before(async () => {
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-live-'));
    media = await startMediaSocket({
      port: 0,
      host: '0.0.0.0',
      onCall: (leg) => {
        botLeg = leg;
        leg.on((e) => {
          events.push(e);
          // The "bot": key 1 forwards to the agency (the second sipp).
          if (e.type === 'dtmf' && e.digit === '1') void leg.forward(`sip:agency@127.0.0.1:${agencyPort}`);
        });
        void leg.playAudio(speech('Здравствуйте! Вы позвонили на линию сто двадцать два.'), 8000, {
          id: 'greeting',
        });
      },
    });
    const config = loadConfig(process.env, {
      dataDir: dir,
      'telephony.recordingsDir': join(dir, 'recordings'),
      'telephony.mediaSocketUrl': process.env.MEDIA_SOCKET_URL ?? `ws://127.0.0.1:${media.port}/`,
      'telephony.drachtioHost': drachtioHost,
    });
    app = await startTelephony(config, { sql: db.sql, log: silentLogger });
  });
  after(async () => {
    await app?.close();
    await media?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 122, streams the caller to the bot, hears key 1, forwards to the agency, records and writes the CDR', async () => {
    const pcap = join(dir, 'speech.pcap');
    writeFileSync(pcap, rtpPcap(speech('Подскажите, как записаться к врачу в поликлинику?')));
    const agency = spawn('sipp', ['-sn', 'uas', '-p', String(agencyPort), '-m', '1', '-bg'], {
      stdio: 'ignore',
    });
    const caller = spawnSync(
      'sipp',
      [
        `${drachtioHost}:${sipPort}`,
        '-sf',
        new URL('../telephony/testing/sipp/caller.xml', import.meta.url).pathname,
        '-s',
        '122',
        '-key',
        'speech_pcap',
        pcap,
        '-key',
        'dtmf_pcap',
        '/usr/share/sip-tester/dtmf_2833_1.pcap',
        '-m',
        '1',
        '-timeout',
        '60s',
        '-timeout_error',
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    agency.kill();
    assert.equal(caller.status, 0, `sipp caller failed:\n${caller.stdout}\n${caller.stderr}`);
    assert.ok(botLeg, 'the voice bot got the call over mod_audio_fork');
    assert.ok(
      events.some((e) => e.type === 'audio'),
      'the bot heard the caller',
    );
    assert.ok(
      events.some((e) => e.type === 'dtmf' && e.digit === '1'),
      'the bot heard key 1 (RFC 2833)',
    );
    const callId = botLeg!.meta.callId;
    const cdr = await eventually(
      async () => {
        const rows = await db.sql.query<{ outcome: string; ended_at: Date | null }>(
          'SELECT outcome, ended_at FROM telephony_calls WHERE call_id = $1',
          [callId],
        );
        return rows[0]?.ended_at ? rows[0] : undefined;
      },
      'call-detail record closed',
      15_000,
    );
    assert.equal(cdr.outcome, 'forwarded');
    const [rec] = await recordingsOfCall(db.sql, callId);
    assert.ok(rec && statSync(rec.path).size > 44, 'the stereo recording has audio');
  });
});
