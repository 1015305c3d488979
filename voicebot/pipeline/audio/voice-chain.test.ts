/**
 * The voice processors on their own, around a small scripted stand-in for the dialog: real Silero VAD,
 * real espeak-ng speech for both sides, a real media socket on loopback and the FreeSWITCH-like client.
 * What is asserted is what the caller's side received and heard.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../core/config.js';
import { silentLogger } from '../../../core/log.js';
import { rms } from '../../../media/audio/pcm.js';
import { createAsrEngine } from '../../../speech/asr/index.js';
import { CachedTtsEngine, TtsMemoryCache } from '../../../speech/tts/cache.js';
import { EspeakTtsEngine } from '../../../speech/tts/espeak.js';
import { synthesizeAll } from '../../../speech/tts/streaming.js';
import type { TtsEngine } from '../../../speech/types.js';
import { createVadEngine } from '../../../speech/vad/index.js';
import { FsClient } from '../../channels/media/fs-client.js';
import type { MediaLeg } from '../../channels/media/media-leg.js';
import { type MediaSocket, startMediaSocket } from '../../channels/media/server.js';
import { type Frame, makeFrame } from '../frames.js';
import { type FrameProcessor, Pipeline, type ProcessContext } from '../pipeline.js';
import { createVoiceProcessors } from './index.js';

const SPEED = 4;
const GREETING =
  'Здравствуйте! Вы позвонили на линию сто двадцать два. Здесь вы можете записаться к врачу, узнать о вакцинации, ' +
  'о мерах поддержки и о работе школ. Пожалуйста, оставайтесь на линии и слушайте внимательно.';

/** Stands in for the dialog: says what the test asks, records every frame that reaches it. */
class ScriptProcessor implements FrameProcessor {
  readonly name = 'script';
  readonly seen: Frame[] = [];
  private ctx: ProcessContext | null = null;
  private seq = 0;

  start(ctx: ProcessContext): void {
    this.ctx = ctx;
  }

  process(frame: Frame, push: (f: Frame) => void): void {
    this.seen.push(frame);
    push(frame);
  }

  say(text: string, bargeIn = true): string {
    const utteranceId = `u${++this.seq}`;
    this.ctx!.pushDownstream(makeFrame('BotSay', { text, utteranceId, bargeIn }, this.ctx!.now()));
    return utteranceId;
  }

  async waitFor(check: (f: Frame) => boolean, ms = 15000): Promise<Frame | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.seen.find(check);
      if (found || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const config = loadConfig({ VOSK_MODEL_PATH: process.env.VOSK_MODEL_PATH ?? '/nonexistent/vosk-model' });
const tts: TtsEngine = new EspeakTtsEngine();
const ttsMissing = tts.state().status === 'ready' ? false : 'espeak-ng is not installed';

async function callerSays(text: string): Promise<Int16Array> {
  return (await synthesizeAll(tts.synthesize(text, { sampleRate: 8000 }))).samples;
}

describe('voice processors over the media socket', { skip: ttsMissing }, () => {
  let socket: MediaSocket;
  let nextLeg: ((leg: MediaLeg) => void) | null = null;
  /** The media socket's secret (MEDIA_SOCKET_SECRET) in this test. */
  const SECRET = 'media-socket-test-secret';
  const vad = createVadEngine();
  const asr = createAsrEngine(config.speech, silentLogger);
  /** The bot speaks through the TTS cache's memory tier, as in `otklik serve`. */
  const cache = new TtsMemoryCache(8 * 1024 * 1024);
  const botTts = new CachedTtsEngine(tts, { memory: cache });

  before(async () => {
    socket = await startMediaSocket({
      port: 0,
      playout: { speed: SPEED },
      auth: { secret: SECRET },
      onCall: (leg) => nextLeg?.(leg),
    });
  });
  after(async () => {
    await socket.close();
    asr.close();
  });

  async function connect() {
    const legPromise = new Promise<MediaLeg>((resolve) => {
      nextLeg = resolve;
    });
    const client = await FsClient.connect({
      url: `ws://127.0.0.1:${socket.port}`,
      secret: SECRET,
      speed: SPEED,
      metadata: { callId: 't' },
    });
    const leg = await legPromise;
    const voice = createVoiceProcessors({
      leg,
      speech: { vad, asr, tts: botTts },
      sampleRate: 8000,
      noInputMs: 3000,
    });
    const script = new ScriptProcessor();
    const pipeline = new Pipeline([...voice.input, script, ...voice.output]);
    await pipeline.start();
    leg.on((e) => {
      if (e.type === 'audio')
        pipeline.push(makeFrame('AudioIn', { samples: e.samples, sampleRate: e.sampleRate }, 0));
      if (e.type === 'dtmf') pipeline.push(makeFrame('Dtmf', { digit: e.digit }, 0));
    });
    return { client, leg, voice, script, pipeline };
  }

  test('the bot is heard: non-silent audio of plausible length, then BotSayDone', async () => {
    const { client, script, pipeline } = await connect();
    const id = script.say('Здравствуйте! Вы позвонили на линию сто двадцать два.');
    const done = await script.waitFor((f) => f.kind === 'BotSayDone' && f.utteranceId === id);
    assert.ok(done && done.kind === 'BotSayDone' && !done.interrupted);
    const heard = client.heard();
    assert.ok(rms(heard) > 0.02, `audible (rms ${rms(heard)})`);
    const ms = (heard.length * 1000) / 8000;
    assert.ok(ms > 1500 && ms < 10000, `plausible duration (${ms} ms)`);
    assert.equal(client.count('killAudio'), 0);
    await client.hangup();
    await pipeline.stop();
  });

  test('a key pressed while the bot speaks stops playback (killAudio) and reports it interrupted', async () => {
    const { client, script, pipeline, voice } = await connect();
    const id = script.say(GREETING);
    await client.waitFor((e) => e.type === 'playAudio');
    while (client.heardMs() < 500) await new Promise((r) => setTimeout(r, 10));
    client.sendDtmf('1');
    const done = await script.waitFor((f) => f.kind === 'BotSayDone' && f.utteranceId === id);
    assert.ok(done && done.kind === 'BotSayDone' && done.interrupted);
    assert.ok(await client.waitFor((e) => e.type === 'killAudio'));
    assert.ok(script.seen.some((f) => f.kind === 'Dtmf' && f.digit === '1'));
    assert.ok(script.seen.some((f) => f.kind === 'Interrupt' && f.reason === 'dtmf'));
    assert.equal(voice.tracker.interruptions.dtmf, 1);
    const greetingMs = (await callerSays(GREETING)).length / 8;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(client.heardMs() < greetingMs / 2, `heard ${client.heardMs()} of ${greetingMs} ms`);
    await client.hangup();
    await pipeline.stop();
  });

  test("the caller's speech while the bot speaks stops playback", async () => {
    const { client, script, pipeline, voice } = await connect();
    const speech = await callerSays('Алло, подождите, я хочу записаться к терапевту.');
    const id = script.say(GREETING);
    await client.waitFor((e) => e.type === 'playAudio');
    await client.sendSilence(300);
    await client.sendAudio(speech);
    await client.sendSilence(1200);
    const done = await script.waitFor((f) => f.kind === 'BotSayDone' && f.utteranceId === id);
    assert.ok(done && done.kind === 'BotSayDone' && done.interrupted);
    assert.ok(client.count('killAudio') >= 1);
    assert.equal(voice.tracker.interruptions.speech, 1);
    assert.ok(script.seen.some((f) => f.kind === 'SpeechStarted'));
    assert.ok(script.seen.some((f) => f.kind === 'SpeechStopped'));
    await client.hangup();
    await pipeline.stop();
  });

  test('an utterance with bargeIn=false (the emergency message) plays to the end despite keys', async () => {
    const { client, script, pipeline } = await connect();
    const id = script.say('Если жизни угрожает опасность, звоните сто двенадцать или сто три.', false);
    await client.waitFor((e) => e.type === 'playAudio');
    client.sendDtmf('5');
    const done = await script.waitFor((f) => f.kind === 'BotSayDone' && f.utteranceId === id);
    assert.ok(done && done.kind === 'BotSayDone' && !done.interrupted);
    assert.equal(client.count('killAudio'), 0);
    await client.hangup();
    await pipeline.stop();
  });

  test('without an ASR model a spoken turn yields MODEL_MISSING (the keypad still works)', {
    skip: asr.state().status === 'ready' ? 'an ASR model is installed' : false,
  }, async () => {
    const { client, script, pipeline } = await connect();
    await client.sendAudio(await callerSays('Хочу записаться к врачу.'));
    await client.sendSilence(1200);
    const err = await script.waitFor((f) => f.kind === 'Error');
    assert.ok(err && err.kind === 'Error' && (err.error as { code?: string }).code === 'MODEL_MISSING');
    client.sendDtmf('2');
    assert.ok(await script.waitFor((f) => f.kind === 'Dtmf' && f.digit === '2'));
    await client.hangup();
    await pipeline.stop();
  });

  test('caller silence after the bot spoke becomes one Silence frame', async () => {
    const { client, script, pipeline } = await connect();
    const id = script.say('Слушаю вас.');
    await script.waitFor((f) => f.kind === 'BotSayDone' && f.utteranceId === id);
    await client.sendSilence(4500);
    const silence = await script.waitFor((f) => f.kind === 'Silence', 3000);
    assert.ok(silence && silence.kind === 'Silence' && silence.silenceMs >= 3000);
    assert.equal(script.seen.filter((f) => f.kind === 'Silence').length, 1);
    await client.hangup();
    await pipeline.stop();
  });

  test('a repeated text comes from the TTS cache', async () => {
    const { client, script, pipeline } = await connect();
    const hitsBefore = cache.hits;
    const a = script.say('Остались ли у вас вопросы?');
    await script.waitFor((f) => f.kind === 'BotSayDone' && f.utteranceId === a);
    const first = client.receivedAudio().length;
    const b = script.say('Остались ли у вас вопросы?');
    await script.waitFor((f) => f.kind === 'BotSayDone' && f.utteranceId === b);
    assert.equal(cache.hits, hitsBefore + 1);
    assert.equal(client.receivedAudio().length, 2 * first, 'the caller gets the same answer again, as long');
    await client.hangup();
    await pipeline.stop();
  });
});
