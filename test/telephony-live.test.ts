import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getCall, getTurns, listCalls } from '../calls/records.js';
import { loadConfig } from '../core/config.js';
import { createLogger, silentLogger } from '../core/log.js';
import { relayAnswers } from '../inquiries/relay.js';
import { readWavInterleaved } from '../media/audio/wav.js';
import type { CallLegEvent } from '../media/call-leg.js';
import { createAsrEngine } from '../speech/asr/index.js';
import { EspeakTtsEngine } from '../speech/tts/espeak.js';
import { synthesizeAll } from '../speech/tts/streaming.js';
import type { SpeechServices } from '../speech/types.js';
import { createVadEngine } from '../speech/vad/index.js';
import { startTelephony, type TelephonyApp } from '../telephony/app.js';
import { recordingsOfCall } from '../telephony/records.js';
import { eventually } from '../telephony/testing/bot-socket.js';
import { rtpPcap } from '../telephony/testing/rtp-pcap.js';
import type { MediaLeg } from '../voicebot/channels/media/media-leg.js';
import { type MediaSocket, startMediaSocket } from '../voicebot/channels/media/server.js';
import { type DialogKnowledge, openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { type CallResult, runCall } from '../voicebot/session.js';
import { openTestDb, type TestDb } from './support/db.js';
import { seedInquiry } from './support/inquiries.js';
import { live, liveSkipReason, type Sipp, scenario, sipp, waitExit } from './support/live-telephony.js';

/**
 * Real calls through drachtio-server and FreeSWITCH (with mod_audio_fork), when both are reachable:
 * DRACHTIO_HOST (admin port DRACHTIO_PORT, default 9022) and FREESWITCH_HOST (event socket 8021), FreeSWITCH
 * configured from telephony/freeswitch/. sipp (Debian: sip-tester) calls 122 with synthesized Russian speech and
 * RFC 2833 key 1; other sipps answer as the agency, the citizen called back and the operator. Skipped, saying
 * why, where they are not running (CI).
 */
const { drachtioHost, sipPort, sippIp } = live;
const agencyPort = 5099;
const operatorPort = 5098;
const calleePort = 5097;

const skip = await liveSkipReason();
if (skip) process.stderr.write(`telephony-live: skipped: ${skip}\n`);

const tts = new EspeakTtsEngine();

/** Russian speech from espeak-ng through the project's TTS engine, 8 kHz PCM16. */
async function speech(text: string): Promise<Int16Array> {
  return (await synthesizeAll(tts.synthesize(text, { sampleRate: 8000 }))).samples;
}

/** RMS level of each channel of a recording ([caller, other side] for our stereo recordings). */
function channelLevels(path: string, fromS = 0, toS = Number.POSITIVE_INFINITY): number[] {
  const { sampleRate, channels, samples } = readWavInterleaved(readFileSync(path), path);
  const frames = samples.length / channels;
  const first = Math.max(0, Math.floor(fromS * sampleRate));
  const last = Math.min(frames, Math.floor(toS * sampleRate));
  const sums = new Array<number>(channels).fill(0);
  for (let f = first; f < last; f++)
    for (let c = 0; c < channels; c++) sums[c]! += (samples[f * channels + c] ?? 0) ** 2;
  return sums.map((sum) => Math.sqrt(sum / Math.max(1, last - first)));
}

/** A sipp that answers one call (telephony/testing/sipp/answer.xml) and ends when the call is hung up. */
function answeringSipp(port: number, mediaPort: number): Sipp {
  return sipp([
    '-sf',
    scenario('answer.xml'),
    '-i',
    sippIp,
    '-p',
    String(port),
    '-mp',
    String(mediaPort),
    '-m',
    '1',
  ]);
}

/** A citizen calling 122: speech, then key 1 (RFC 2833), then hang-up (telephony/testing/sipp/caller.xml). */
function callingSipp(pcap: string, port: number, mediaPort: number): Sipp {
  return sipp([
    `${drachtioHost}:${sipPort}`,
    '-sf',
    scenario('caller.xml'),
    '-s',
    '122',
    '-i',
    sippIp,
    '-p',
    String(port),
    '-mp',
    String(mediaPort),
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
  ]);
}

type Mode = 'forward' | 'outbound' | 'crash' | 'relay' | 'desk';

/** MEDIA_SOCKET_SECRET: telephony signs the forks with it and the media socket checks it. */
const mediaSocketSecret = process.env.MEDIA_SOCKET_SECRET ?? 'live-test-media-socket-secret';

describe('live call through drachtio-server and FreeSWITCH', { skip }, () => {
  let db: TestDb;
  let dir: string;
  let media: MediaSocket;
  let app: TelephonyApp;
  /** What the "bot" does with the next call. */
  let mode: Mode = 'forward';
  const legs = new Map<string, { leg: MediaLeg; events: CallLegEvent[]; at: number }>();
  let crashedAt = 0;
  /** The real voice bot (dialog engine, KB, NLU, espeak-ng, Silero VAD) for the 'relay' mode. */
  let engine: DialogKnowledge;
  let speechEngines: SpeechServices;
  let botSession: Promise<CallResult> | null = null;
  const children: ChildProcess[] = [];
  const track = (s: Sipp): Sipp => {
    children.push(s.proc);
    return s;
  };

  let greeting: Promise<Int16Array>;
  /** The media socket's port, kept when the 'crash' test restarts it (telephony forks to this URL). */
  let mediaPort = 0;
  let mediaOptions: Parameters<typeof startMediaSocket>[0];

  before(async () => {
    greeting = speech('Здравствуйте! Вы позвонили на линию сто двадцать два.');
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-live-'));
    mediaOptions = {
      port: mediaPort,
      host: '0.0.0.0',
      auth: { secret: mediaSocketSecret },
      onCall: (leg) => {
        const call = { leg, events: [] as CallLegEvent[], at: Date.now() };
        legs.set(leg.meta.callId, call);
        leg.on((e) => {
          call.events.push(e);
          // The "bot": key 1 forwards to the agency (the second sipp).
          if (mode === 'forward' && e.type === 'dtmf' && e.digit === '1')
            void leg.forward(`sip:agency@${sippIp}:${agencyPort}`);
        });
        if (mode === 'relay' || mode === 'desk') {
          botSession = runCall(leg, {
            ...engine,
            speech: speechEngines,
            mode: 'voice',
            // The desk case: the bot hands the caller to the operator queue, which the desk serves.
            ...(mode === 'desk' ? { handOff: app.queue } : {}),
          });
          return;
        }
        if (mode === 'crash') {
          // The voice bot's process dies while the caller is with it: every media socket drops at once.
          setTimeout(() => {
            crashedAt = Date.now();
            void media.close();
          }, 800);
          return;
        }
        void greeting.then((samples) => leg.playAudio(samples, 8000, { id: 'greeting' }));
      },
    };
    media = await startMediaSocket(mediaOptions);
    mediaPort = media.port;
    const config = loadConfig(process.env, {
      dataDir: dir,
      'telephony.recordingsDir': join(dir, 'recordings'),
      'telephony.mediaSocketUrl': process.env.MEDIA_SOCKET_URL ?? `ws://127.0.0.1:${media.port}/`,
      'mediaSocket.secret': mediaSocketSecret,
      'telephony.drachtioHost': drachtioHost,
      'telephony.operatorUri': `sip:operator@${sippIp}:${operatorPort}`,
    });
    // The apology and hold messages telephony plays itself when the bot is gone.
    // LIVE_LOG=debug shows the telephony app's log (on stderr) when a live call misbehaves.
    const log = process.env.LIVE_LOG ? createLogger({ level: process.env.LIVE_LOG }) : silentLogger;
    app = await startTelephony(config, {
      sql: db.sql,
      log,
      tts,
      mediaSocketSecret: config.mediaSocket.secret,
    });
    engine = await openDialogKnowledge(db.sql, log, { modelDir: join(dir, 'nlu') });
    const asr = createAsrEngine(config.speech, silentLogger);
    speechEngines = {
      vad: createVadEngine(),
      asr,
      tts,
      close: async () => asr.close(),
    };
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill();
    await app?.close();
    await media?.close();
    await speechEngines?.close();
    await engine?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The call-detail record once the call has ended (telephony closes it after the last leg hangs up). */
  const closedCdr = (callId: string) =>
    eventually(
      async () => {
        const sip = (await getCall(db.sql, callId))?.sip;
        return sip?.endedAt ? sip : undefined;
      },
      `call-detail record of ${callId} closed`,
      15_000,
    );

  /** The call's recording once FreeSWITCH has finished writing it. */
  const completeRecording = (callId: string) =>
    eventually(
      async () => {
        const rows = await recordingsOfCall(db.sql, callId);
        return rows[0]?.state === 'complete' ? rows[0] : undefined;
      },
      `recording of ${callId} complete`,
      15_000,
    );

  let callerPort = 5070;
  /**
   * A citizen calls 122 (speech, key 1, hang-up) while a second sipp waits to answer where the call should
   * go (agency, operator); both must finish cleanly.
   */
  async function citizenCalls(words: string, answerer: { port: number; mediaPort: number; what: string }) {
    const pcap = join(dir, `speech-${callerPort}.pcap`);
    writeFileSync(pcap, rtpPcap(await speech(words)));
    const other = track(answeringSipp(answerer.port, answerer.mediaPort));
    const caller = track(callingSipp(pcap, callerPort, 6000 + (callerPort - 5070) * 80));
    callerPort += 1;
    await waitExit(caller, 'sipp caller', 90_000);
    await waitExit(other, answerer.what, 15_000);
  }

  it('answers 122, the caller hears the greeting, the bot hears speech and key 1, forwards to the agency, records and writes the CDR', async () => {
    mode = 'forward';
    await citizenCalls('Подскажите, как записаться к врачу в поликлинику?', {
      port: agencyPort,
      mediaPort: 6020,
      what: 'sipp agency (the forward never reached it)',
    });
    const call = [...legs.values()].at(-1);
    assert.ok(call, 'the voice bot got the call over mod_audio_fork');
    assert.ok(call.leg.stats.playChunksSent > 0, 'the bot sent its greeting (playAudio frames)');
    assert.ok(
      call.events.some((e) => e.type === 'audio'),
      'the bot heard the caller',
    );
    assert.ok(
      call.events.some((e) => e.type === 'dtmf' && e.digit === '1'),
      'the bot heard key 1 (RFC 2833)',
    );
    const callId = call.leg.meta.callId;
    const cdr = await closedCdr(callId);
    assert.equal(cdr.outcome, 'forwarded');
    assert.ok(
      cdr.legs.some((l) => l.kind === 'agency' && l.status === 'answered'),
      JSON.stringify(cdr.legs),
    );
    const rec = await completeRecording(callId);
    const [callerLevel, otherLevel] = channelLevels(rec.path);
    assert.ok((callerLevel ?? 0) > 100, `caller channel is silent (rms ${callerLevel})`);
    assert.ok((otherLevel ?? 0) > 100, `bot/agency channel is silent (rms ${otherLevel})`);
    // The first seconds, before key 1: what the caller was sent is the bot's greeting.
    const [, greeting] = channelLevels(rec.path, 0, 2.5);
    assert.ok((greeting ?? 0) > 100, `the caller was sent no greeting (rms ${greeting})`);
  });

  it('places an outbound call that the bot runs with its flow id, and closes its CDR', async () => {
    mode = 'outbound';
    const callee = track(answeringSipp(calleePort, 6040));
    await new Promise((r) => setTimeout(r, 300));
    const placed = await app.calls.placeOutbound({
      target: `sip:citizen@${sippIp}:${calleePort}`,
      from: '122',
      flowId: 'callback-live',
      timeoutMs: 15_000,
    });
    assert.deepEqual(placed.result, { status: 'answered' });
    const call = await eventually(() => legs.get(placed.callId), 'the bot got the outbound call', 10_000);
    assert.equal(call.leg.meta.extra?.flowId, 'callback-live');
    await new Promise((r) => setTimeout(r, 1500));
    await placed.leg?.hangup();
    await waitExit(callee, 'sipp callee', 15_000);
    const cdr = await closedCdr(placed.callId);
    assert.equal(cdr.direction, 'outbound');
    assert.ok(
      cdr.legs.some((l) => l.kind === 'outbound' && l.status === 'answered'),
      JSON.stringify(cdr.legs),
    );
  });

  it("relays the agency's answer: the job calls the citizen back and the voice bot reads the answer", async () => {
    mode = 'relay';
    const answer = 'Справку о составе семьи выдают в МФЦ по паспорту в день обращения.';
    const inquiryId = await seedInquiry(db.sql, {
      question: 'где взять справку о составе семьи',
      receivedAt: new Date('2026-11-20T10:00:00+03:00'),
      answer,
    });
    const callee = track(answeringSipp(calleePort, 6100));
    await new Promise((r) => setTimeout(r, 300));
    const placed: string[] = [];
    const summary = await relayAnswers({
      sql: db.sql,
      log: silentLogger,
      now: () => new Date('2026-11-23T12:00:00+03:00'),
      // The carrier trunk would route the citizen's number; here it reaches the sipp that plays the citizen.
      placeCall: async (req) => {
        placed.push(req.target);
        const r = await app.calls.placeOutbound({
          target: `sip:citizen@${sippIp}:${calleePort}`,
          from: '122',
          flowId: req.flowId,
          metadata: req.metadata,
          timeoutMs: 15_000,
        });
        return { status: r.result.status };
      },
    });
    assert.deepEqual(placed, ['+79990001122']);
    assert.equal(summary.answered, 1);
    await waitExit(callee, 'sipp citizen (the bot never hung up)', 90_000);
    assert.ok(botSession, 'the voice bot got the call over mod_audio_fork');
    const result = await botSession;
    const turns = await getTurns(db.sql, result.callId);
    assert.ok(
      turns.some((t) => t.who === 'bot' && t.text.includes(answer)),
      `the bot read the answer: ${JSON.stringify(turns.map((t) => t.text))}`,
    );
    const [row] = await db.sql.query<{ status: string; relayed: boolean }>(
      'SELECT status, relayed_at IS NOT NULL AS relayed FROM inquiries WHERE id = $1',
      [inquiryId],
    );
    assert.deepEqual(row, { status: 'closed', relayed: true });
  });

  it('when the voice bot crashes mid-call, the caller hears the apology and is bridged to an operator from the queue', async () => {
    mode = 'crash';
    await citizenCalls('Алло, вы меня слышите?', {
      port: operatorPort,
      mediaPort: 6060,
      what: 'sipp operator (the queue never bridged the caller)',
    });
    const call = [...legs.values()].at(-1);
    assert.ok(call && crashedAt > 0, 'the bot got the call and crashed');
    const callId = call.leg.meta.callId;
    const cdr = await closedCdr(callId);
    assert.equal(cdr.outcome, 'operator');
    assert.ok(
      cdr.legs.some((l) => l.kind === 'bot' && String(l.status).startsWith('unavailable')),
      JSON.stringify(cdr.legs),
    );
    assert.ok(
      cdr.legs.some((l) => l.kind === 'operator' && l.status === 'answered'),
      JSON.stringify(cdr.legs),
    );
    const queued = await db.sql.query<{ state: string; reason: string }>(
      "SELECT state, context->>'reason' AS reason FROM telephony_queue_calls WHERE call_id = $1",
      [callId],
    );
    assert.deepEqual(queued, [{ state: 'answered', reason: 'technical' }]);
    const rec = await completeRecording(callId);
    // Not silence: after the crash the caller is sent the recorded apology.
    const crashS = (crashedAt - call.at) / 1000;
    const [, apology] = channelLevels(rec.path, crashS + 0.5, crashS + 3.5);
    assert.ok((apology ?? 0) > 100, `silence after the bot crashed (rms ${apology})`);
    // The bot's process comes back (its supervisor restarts it) on the same address: the next calls reach it.
    media = await startMediaSocket({ ...mediaOptions, port: mediaPort });
  });

  it("a caller the bot escalates (key 0) is bridged to the operator's softphone after an accept on the desk", async () => {
    mode = 'desk';
    const deskPort = operatorPort + 10;
    // Only the desk's operator is signed in: their phone offers wait for the accept on the desk.
    await app.queue.setPresence('default', 'offline');
    await app.queue.saveOperator({
      id: 'desk-op',
      name: 'Оператор стола',
      login: 'desk-op',
      sipUri: `sip:deskop@${sippIp}:${deskPort}`,
      skills: [],
    });
    await app.queue.setPresence('desk-op', 'available', null, { viaDesk: true });
    const pcap = join(dir, 'desk-caller.pcap');
    writeFileSync(pcap, rtpPcap(await speech('Соедините меня с оператором, пожалуйста.')));
    const operatorPcap = join(dir, 'desk-operator.pcap');
    writeFileSync(operatorPcap, rtpPcap(await speech('Оператор слушает, здравствуйте. Чем могу помочь?')));
    const softphone = track(
      sipp([
        '-sf',
        scenario('operator.xml'),
        '-i',
        sippIp,
        '-p',
        String(deskPort),
        '-mp',
        '6300',
        '-key',
        'speech_pcap',
        operatorPcap,
        '-m',
        '1',
      ]),
    );
    const caller = track(
      sipp([
        `${drachtioHost}:${sipPort}`,
        '-sf',
        scenario('escalate.xml'),
        '-s',
        '122',
        '-i',
        sippIp,
        '-p',
        String(callerPort++),
        '-mp',
        '6200',
        '-key',
        'speech_pcap',
        pcap,
        '-key',
        'dtmf_pcap',
        '/usr/share/sip-tester/dtmf_2833_0.pcap',
        '-m',
        '1',
        '-timeout',
        '120s',
        '-timeout_error',
      ]),
    );
    // The desk: the offer arrives with the bot's transcript, and the operator accepts it.
    const offer = await eventually(
      async () => (await app.queue.offersFor('desk-op'))[0],
      'the escalated call offered on the desk',
      60_000,
    );
    const transcript = (offer.context.transcript ?? []) as Array<{ who: string; text: string }>;
    assert.ok(
      transcript.some((t) => t.who === 'bot'),
      `the desk shows the bot's transcript: ${JSON.stringify(transcript)}`,
    );
    await app.queue.accept(offer.callId, 'desk-op');
    await app.calls.tick();
    await waitExit(caller, 'sipp caller', 90_000);
    await waitExit(softphone, "sipp operator's softphone (never bridged)", 15_000);
    const cdr = await closedCdr(offer.callId);
    assert.ok(
      cdr.legs.some((l) => l.kind === 'operator' && l.target === 'desk-op' && l.status === 'answered'),
      JSON.stringify(cdr.legs),
    );
    const rec = await completeRecording(offer.callId);
    // Both sides on the recording: the caller's words, and the operator's once bridged.
    const [callerLevel, otherLevel] = channelLevels(rec.path);
    assert.ok((callerLevel ?? 0) > 100 && (otherLevel ?? 0) > 100, `levels ${callerLevel}, ${otherLevel}`);
    await app.queue.setPresence('desk-op', 'offline');
    await app.queue.setPresence('default', 'available');
  });

  it('left a closed call-detail record for every call', async () => {
    // One record per call: the SIP facts are on the call's row, oldest call first.
    const rows = (await listCalls(db.sql, 100)).filter((c) => c.sip).reverse();
    assert.deepEqual(
      rows.map((r) => [r.sip?.direction, r.sip?.endedAt != null]),
      [
        ['inbound', true],
        ['outbound', true],
        ['outbound', true],
        ['inbound', true],
        // The caller the desk's operator took.
        ['inbound', true],
      ],
    );
  });
});
