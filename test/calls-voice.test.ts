/**
 * Calls through the voice channel as FreeSWITCH makes them: the real dialog engine behind the media
 * socket on loopback, the FreeSWITCH-like client speaking mod_audio_fork's protocol, espeak-ng audio for
 * the bot and for the caller. Assertions are on what the caller's side received and heard, and on the
 * call record in the store. Scenarios that need speech recognition run only with an ASR model
 * (VOSK_MODEL_PATH) and are reported skipped otherwise.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getCall, getTurns } from '../calls/records.js';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { rms } from '../media/audio/pcm.js';
import { createAsrEngine } from '../speech/asr/index.js';
import { EspeakTtsEngine } from '../speech/tts/espeak.js';
import { synthesizeAll } from '../speech/tts/streaming.js';
import type { AsrEngine, AsrOptions, SpeechServices } from '../speech/types.js';
import { createVadEngine } from '../speech/vad/index.js';
import { OperatorQueue, queuedCall } from '../telephony/queue.js';
import { FsClient } from '../voicebot/channels/media/fs-client.js';
import { type MediaLeg, malformedTotal } from '../voicebot/channels/media/media-leg.js';
import { type MediaSocket, startMediaSocket } from '../voicebot/channels/media/server.js';
import { type DialogKnowledge, openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { type CallResult, CallSession } from '../voicebot/session.js';
import { parseCallerScript } from '../voicebot/simulator/script.js';
import { simulateVoiceCall } from '../voicebot/simulator/voice.js';
import { type Backend, openTestDb, type TestDb } from './support/db.js';

/** A Thursday morning outside the sample incidents' dates: greeting and menu, no announcement. */
const AT = '2026-10-15T11:00:00+03:00';
/** During the sample's heating incident (November to March): its announcement follows the greeting. */
const INCIDENT_AT = '2026-11-19T11:00:00+03:00';
const FAST = 50;
/** The media socket's secret (MEDIA_SOCKET_SECRET) in this test. */
const SECRET = 'media-socket-test-secret';
/** The line's forward wait in these tests (in serve: FORWARD_TIMEOUT_MS plus a margin for the result). */
const FORWARD_WAIT_MS = 1500;
const BARGE_IN_SPEED = 5;

const config = loadConfig({ VOSK_MODEL_PATH: process.env.VOSK_MODEL_PATH ?? '/nonexistent/vosk-model' });
const tts = new EspeakTtsEngine();
const noTts = tts.state().status === 'ready' ? false : 'espeak-ng is not installed';

function speechReady(): boolean {
  const asr = createAsrEngine(config.speech, silentLogger);
  const ready = asr.state().status === 'ready';
  asr.close();
  return ready;
}

async function speak(text: string): Promise<Int16Array> {
  return (await synthesizeAll(tts.synthesize(text, { sampleRate: 8000 }))).samples;
}

/** Milliseconds of bot audio the client had received up to a moment (its clock). */
function receivedBefore(client: FsClient, atMs: number): number {
  const samples = client.events.reduce(
    (n, e) => (e.type === 'playAudio' && e.atMs <= atMs ? n + e.samples.length : n),
    0,
  );
  return samples / 8;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface VoiceLine {
  db: TestDb;
  engine: DialogKnowledge;
  speech: SpeechServices;
  startCall(opts?: {
    speed?: number;
    beforeMetadata?: Array<string | Buffer>;
    transferReply?: 'answered' | 'none';
    /** Other speech engines than the line's for this call. */
    speech?: SpeechServices;
    at?: string;
  }): Promise<{
    callId: string;
    client: FsClient;
    leg: MediaLeg;
    session: CallSession;
    result: Promise<CallResult>;
    botFinished: () => Promise<void>;
  }>;
  close(): Promise<void>;
}

/** The voice side of the line on a store: the engine, the speech engines and media sockets at two speeds. */
async function openVoiceLine(backend: Backend): Promise<VoiceLine> {
  const db = await openTestDb(backend);
  // A trained model is kept between runs (it is retrained whenever the seed's KB version changes).
  const modelDir = join(tmpdir(), 'otklik-test-calls-voice-nlu');
  mkdirSync(modelDir, { recursive: true });
  const engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir });
  const asr = createAsrEngine(config.speech, silentLogger);
  const speech: SpeechServices = { vad: createVadEngine(), asr, tts, close: async () => asr.close() };
  const sockets = new Map<number, MediaSocket>();
  let nextLeg: ((leg: MediaLeg) => void) | null = null;
  for (const speed of [FAST, BARGE_IN_SPEED]) {
    sockets.set(
      speed,
      await startMediaSocket({
        port: 0,
        playout: { speed },
        auth: { secret: SECRET },
        forwardTimeoutMs: FORWARD_WAIT_MS,
        onCall: (leg) => nextLeg?.(leg),
      }),
    );
  }

  /** A call as FreeSWITCH would make it, with the voice session running on the server side. */
  async function startCall(
    opts: {
      speed?: number;
      beforeMetadata?: Array<string | Buffer>;
      transferReply?: 'answered' | 'none';
      speech?: SpeechServices;
      /** The line's clock at the call's start (ISO); the default is AT. */
      at?: string;
    } = {},
  ) {
    const speed = opts.speed ?? FAST;
    const legPromise = new Promise<MediaLeg>((resolve) => {
      nextLeg = resolve;
    });
    const callId = randomUUID();
    const client = await FsClient.connect({
      url: `ws://127.0.0.1:${sockets.get(speed)!.port}`,
      secret: SECRET,
      speed,
      metadata: { callId, from: '+79991234567', to: '122' },
      ...(opts.beforeMetadata ? { beforeMetadata: opts.beforeMetadata } : {}),
      ...(opts.transferReply ? { transferReply: opts.transferReply } : {}),
    });
    const leg = await legPromise;
    const startedAt = new Date(opts.at ?? AT).getTime();
    const t0 = Date.now();
    const session = new CallSession(leg, {
      kb: engine.kb,
      nlu: engine.nlu,
      sql: db.sql,
      handOff: new OperatorQueue(db.sql, { waitNormMs: 60_000 }),
      log: silentLogger,
      speech: opts.speech ?? speech,
      mode: 'voice',
      clock: () => (Date.now() - t0) * speed,
      now: () => new Date(startedAt + (Date.now() - t0) * speed),
    });
    const result = session.run();
    /** Until the bot waits for the caller and its audio has played out. */
    const botFinished = async () => {
      await Promise.race([session.whenWaiting(), result]);
      await client.waitUntilQuiet(50);
    };
    return { callId, client, leg, session, result, botFinished };
  }

  return {
    db,
    engine,
    speech,
    startCall,
    async close() {
      for (const socket of sockets.values()) await socket.close();
      await speech.close();
      await engine.close();
      await db.drop();
    },
  };
}

/** The caller hangs up during the greeting: the session ends and the record is complete. */
async function hangupMidCall(line: VoiceLine): Promise<void> {
  const call = await line.startCall();
  await call.client.waitFor((e) => e.type === 'playAudio');
  while (call.client.heardMs() < 500) await sleep(5);
  await call.client.hangup();
  const result = await call.result;
  assert.equal(result.outcome, 'hangup');
  const row = await getCall(line.db.sql, call.callId);
  assert.ok(row, 'the call is recorded');
  assert.equal(row.outcome, 'hangup');
  assert.equal(row.status, 'completed');
  assert.equal(row.channel, 'media');
  assert.ok(row.endedAt, 'the end is recorded');
  const turns = await getTurns(line.db.sql, call.callId);
  assert.ok(turns.length >= 1, 'the greeting is in the transcript');
  assert.equal(turns[0]!.who, 'bot');
}

/** 0 in the menu: the call is escalated to the operator queue with its context; the caller then leaves. */
async function escalateByKey(line: VoiceLine): Promise<void> {
  const call = await line.startCall();
  await call.botFinished();
  call.client.sendDtmf('0');
  await sleep(20);
  await call.botFinished();
  await call.client.hangup();
  const result = await call.result;
  assert.equal(result.outcome, 'abandoned', 'the caller hung up while waiting in the queue');
  const queued = await queuedCall(line.db.sql, call.callId);
  assert.equal(queued?.state, 'abandoned');
  assert.ok(queued?.context.transcript?.length, 'the queued call carries its context package');
}

describe('calls through the voice channel (media socket, PGlite)', { skip: noTts }, () => {
  let line: VoiceLine;
  let engine: DialogKnowledge;
  let speech: SpeechServices;
  let db: TestDb;
  let startCall: VoiceLine['startCall'];

  before(async () => {
    line = await openVoiceLine('pglite');
    ({ engine, speech, db, startCall } = line);
  });
  after(() => line.close());

  test('a forward nobody answers: the bot takes the caller back after the line’s forward wait', async () => {
    // Telephony never reports on the transfer. The bot waits as long as the line is configured to (the
    // socket's forward wait, from FORWARD_TIMEOUT_MS), not a fixed 30 s of its own, then tells the caller.
    const call = await startCall({ transferReply: 'none' });
    await call.botFinished();
    call.client.sendTranscript('хочу пожаловаться на поликлинику мне отказали в приёме');
    assert.ok(await call.client.waitFor((e) => e.type === 'transfer'), 'the bot asks telephony to forward');
    const failed = await engine.kb.prompt('forward_failed');
    const said = () =>
      call.session.dialog.transcript.some((t) => t.who === 'bot' && t.text === failed?.trim());
    for (let waited = 0; waited < 10 * FORWARD_WAIT_MS && !said(); waited += 50) await sleep(50);
    assert.ok(said(), 'the caller is told the forward failed once the line’s forward wait is over');
    await call.client.hangup();
    await call.result;
  });

  test('the greeting and the menu are heard: non-silent audio of plausible length', async () => {
    const call = await startCall();
    await call.botFinished();
    const heard = call.client.heard();
    const seconds = heard.length / 8000;
    assert.ok(rms(heard) > 0.02, `the caller hears speech, not silence (rms ${rms(heard).toFixed(3)})`);
    assert.ok(seconds > 10 && seconds < 120, `greeting and menu last ${seconds.toFixed(1)} s`);
    const greeting = await engine.kb.prompt('greeting');
    assert.equal(call.session.dialog.transcript[0]?.text, greeting?.trim());
    assert.equal(call.client.count('killAudio'), 0);
    await call.client.hangup();
    assert.equal((await call.result).outcome, 'hangup');
  });

  test('a key chooses a menu item and the bot answers with audio', async () => {
    const call = await startCall();
    await call.botFinished();
    const before = call.client.heardMs();
    const botTurns = call.session.dialog.transcript.length;
    call.client.sendDtmf('1');
    await sleep(20);
    await call.botFinished();
    assert.ok(call.client.heardMs() - before > 1000, 'the bot spoke after the key');
    const after = call.session.dialog.transcript.slice(botTurns);
    assert.deepEqual(after[0], { ...after[0], who: 'caller', text: '1' });
    assert.ok(
      after.slice(1).some((t) => t.who === 'bot'),
      'the bot answered the key',
    );
    await call.client.hangup();
    await call.result;
  });

  test('0 in the menu puts the caller in the operator queue with the transcript', () => escalateByKey(line));

  test('barge-in by key: pressing a digit during the greeting stops the playback (killAudio)', async () => {
    const call = await startCall({ speed: BARGE_IN_SPEED });
    await call.client.waitFor((e) => e.type === 'playAudio');
    while (call.client.heardMs() < 1000) await sleep(5);
    call.client.sendDtmf('1');
    assert.ok(await call.client.waitFor((e) => e.type === 'killAudio', 5000), 'killAudio was sent');
    const greeting = call.session.dialog.transcript[0]!.text;
    const greetingMs = (await speak(greeting)).length / 8;
    const killAt = call.client.events.find((e) => e.type === 'killAudio')!;
    const beforeKill = receivedBefore(call.client, killAt.atMs);
    assert.ok(beforeKill < greetingMs, `the greeting was cut (${beforeKill} of ${greetingMs} ms)`);
    for (let i = 0; i < 500 && !call.session.dialog.transcript.some((t) => t.who === 'caller'); i++)
      await sleep(10);
    assert.ok(
      call.session.dialog.transcript.some((t) => t.who === 'caller' && t.text === '1'),
      'the key was heard',
    );
    await call.client.hangup();
    await call.result;
  });

  test('type-ahead: 0 pressed in the greeting skips the incident announcement and the menu and queues the caller', async () => {
    // During the sample heating incident: the greeting is followed by its announcement and the menu.
    const call = await startCall({ speed: BARGE_IN_SPEED, at: INCIDENT_AT });
    await call.client.waitFor((e) => e.type === 'playAudio');
    while (call.client.heardMs() < 1000) await sleep(5);
    call.client.sendDtmf('0');
    assert.ok(await call.client.waitFor((e) => e.type === 'killAudio', 5000), 'the greeting was cut');
    for (let i = 0; i < 1000 && !(await queuedCall(db.sql, call.callId)); i++) await sleep(10);
    assert.ok(await queuedCall(db.sql, call.callId), 'the caller is in the operator queue');
    const intro = (await engine.kb.prompt('incident_intro'))?.trim();
    const menu = (await engine.kb.prompt('menu'))?.trim();
    const keyAt = call.session.dialog.transcript.findIndex((t) => t.who === 'caller' && t.text === '0');
    assert.ok(keyAt > 0, 'the key is in the transcript');
    const skipped = call.session.dialog.transcript
      .slice(keyAt)
      .filter((t) => t.who === 'bot' && (t.text === intro || t.text === menu));
    assert.deepEqual(skipped, [], 'neither the announcement nor the menu played after the key');
    await call.client.hangup();
    await call.result;
  });

  test("barge-in by voice: the caller's speech during the greeting stops the playback", async () => {
    const call = await startCall({ speed: BARGE_IN_SPEED });
    const speech = await speak('Алло, подождите, пожалуйста, я хочу записаться к терапевту.');
    await call.client.waitFor((e) => e.type === 'playAudio');
    while (call.client.heardMs() < 1000) await sleep(5);
    // What the caller had heard when the bot stopped: whatever the bot says after the barge-in (a reprompt,
    // as no ASR model may be installed) is heard later and is not the greeting.
    const killed = call.client
      .waitFor((e) => e.type === 'killAudio', 5000)
      .then((kill) => ({ kill, heardMs: call.client.heardMs() }));
    await call.client.sendAudio(speech);
    await call.client.sendSilence(1000);
    const { kill, heardMs } = await killed;
    assert.ok(kill, 'killAudio was sent');
    const greetingMs = (await speak(call.session.dialog.transcript[0]!.text)).length / 8;
    assert.ok(receivedBefore(call.client, kill.atMs) < greetingMs, 'the greeting was cut short');
    assert.ok(
      heardMs < greetingMs,
      `the caller did not hear the whole greeting (${heardMs} of ${greetingMs} ms)`,
    );
    assert.equal(call.leg.ended, false, 'the call goes on');
    await call.client.hangup();
    assert.equal((await call.result).outcome, 'hangup');
  });

  test('malformed frames are counted and ignored, and the call goes on', async () => {
    const call = await startCall({ beforeMetadata: [Buffer.alloc(320), '{not json'] });
    call.client.sendRaw('garbage {');
    call.client.sendRaw(Buffer.alloc(161));
    call.client.sendRaw(JSON.stringify({ type: 'somethingElse', data: {} }));
    await call.botFinished();
    call.client.sendDtmf('0');
    await sleep(20);
    await call.botFinished();
    const stats = call.leg.stats;
    assert.equal(stats.malformed.binary_before_metadata, 1);
    assert.equal(stats.malformed.bad_json, 2);
    assert.equal(stats.malformed.odd_length, 1);
    assert.equal(stats.malformed.unknown_type, 1);
    assert.equal(malformedTotal(stats), 5);
    assert.ok(call.client.heardMs() > 5000, 'the bot kept talking');
    await call.client.hangup();
    assert.equal((await call.result).outcome, 'abandoned');
  });

  test('the socket closing mid-call ends the session with outcome hangup and a complete record', () =>
    hangupMidCall(line));

  test('a keypad-only caller script runs through the voice simulator (silence gets a reprompt)', async () => {
    const script = parseCallerScript(
      `at: "${AT}"\nturns:\n  - dtmf: "1"\n  - silence_ms: 7000\n  - hangup: true\n`,
      'keypad.yaml',
    );
    const result = await simulateVoiceCall(
      script,
      { kb: engine.kb, nlu: engine.nlu, sql: db.sql, log: silentLogger, speech },
      { speed: FAST },
    );
    assert.equal(result.outcome, 'hangup');
    assert.ok(result.voice.heardMs > 10000);
    const noInput = await engine.kb.prompt('no_input');
    assert.ok(
      result.transcript.some((t) => t.who === 'bot' && t.text === noInput?.trim()),
      'the silence was answered with the no_input prompt',
    );
  });

  test('a spoken caller script without an ASR model is refused with a clear message', {
    skip: speechReady() ? 'an ASR model is installed' : false,
  }, async () => {
    const script = parseCallerScript(`turns:\n  - say: "хочу записаться к терапевту"\n`, 'spoken.yaml');
    await assert.rejects(
      simulateVoiceCall(script, {
        kb: engine.kb,
        nlu: engine.nlu,
        sql: db.sql,
        log: silentLogger,
        speech,
      }),
      (err: Error & { code?: string }) => err.code === 'MODEL_MISSING' && /ASR model/.test(err.message),
    );
  });

  test('the recognizer is given the KB vocabulary as hints, open: the caller is heard', async () => {
    // A recognizer stand-in: it records what each turn's stream was opened with and hears the question.
    const opened: AsrOptions[] = [];
    const recognizer: AsrEngine = {
      name: 'stand-in',
      state: () => ({ status: 'ready' }),
      async createStream(opts) {
        opened.push(opts);
        return {
          push: async () => null,
          finish: async () => ({
            text: 'хочу записаться к терапевту',
            final: true,
            confidence: 0.9,
            words: [],
          }),
          close: () => {},
        };
      },
    };
    const call = await startCall({ speech: { ...speech, asr: recognizer } });
    await call.botFinished();
    await call.client.sendAudio(await speak('Хочу записаться к терапевту.'));
    await call.client.sendSilence(1200);
    for (let i = 0; i < 500 && call.session.dialog.intents.length === 0; i++) await sleep(10);
    assert.equal(call.session.dialog.intents[0]?.intent, 'health.appointment', 'the caller was understood');
    await call.client.hangup();
    await call.result;

    const vocabulary = await engine.kb.vocabulary();
    assert.ok(vocabulary.includes('заречный район'), 'the sample KB has place names');
    assert.ok(opened.length > 0, 'the caller’s turn opened a recognition stream');
    for (const o of opened) {
      assert.deepEqual(o.hints, vocabulary);
      assert.equal(o.grammar, undefined, 'the vocabulary is not a closed grammar');
    }
  });

  test('a spoken question is recognized and answered', {
    skip: speechReady() ? false : 'no ASR model (set VOSK_MODEL_PATH to a Vosk Russian model)',
  }, async () => {
    const script = parseCallerScript(
      `at: "2026-11-24T11:00:00+03:00"\nturns:\n  - say: "хочу записаться к терапевту"\n  - say: "нет спасибо"\n`,
      'spoken.yaml',
    );
    const result = await simulateVoiceCall(
      script,
      { kb: engine.kb, nlu: engine.nlu, sql: db.sql, log: silentLogger, speech },
      { speed: 2 },
    );
    assert.equal(result.intents[0], 'health.appointment');
    assert.ok(result.answers.some((a) => a.intent === 'health.appointment'));
  });
});

describe('calls through the voice channel (media socket, PostgreSQL)', { skip: noTts }, () => {
  let line: VoiceLine;
  before(async () => {
    line = await openVoiceLine('postgres');
  });
  after(() => line.close());

  test('0 in the menu puts the caller in the operator queue with the transcript', () => escalateByKey(line));
  test('the socket closing mid-call ends the session with outcome hangup and a complete record', () =>
    hangupMidCall(line));
});
