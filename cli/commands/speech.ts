import type { Command } from 'commander';
import { OtklikError } from '../../core/errors.js';
import type { AsrResult, PcmAudio, TtsChunk } from '../../speech/types.js';
import { createCliContext, reportCliError } from '../context.js';
import { readTlsMaterial, speechClientTls } from '../tls.js';

/**
 * `otklik speech` (the gRPC service), `otklik speech say`, `otklik speech transcribe` (contracts/cli.md).
 * Engines are imported when a speech command runs, so other commands never load onnxruntime or libvosk.
 */

const engines = () => import('../../speech/services.js');
const audioIo = () => import('../../media/audio/index.js');

function parseRate(value: string): number {
  const rate = Number(value);
  if (!Number.isInteger(rate) || rate < 8000 || rate > 48000) {
    throw new OtklikError('VALIDATION_FAILED', `--rate must be a sample rate 8000..48000 Hz, got "${value}"`);
  }
  return rate;
}

async function serve(opts: { listen?: string }): Promise<void> {
  const ctx = createCliContext(process.env, { service: true });
  const log = ctx.log;
  // This process IS the speech service: its engines run here even if SPEECH_URL is set for the others.
  const config = { ...ctx.config, speech: { ...ctx.config.speech, url: undefined } };
  // Certificates are read before any engine loads: a bad file stops start-up at once.
  const tls = readTlsMaterial(config).speechServer;
  const { createSpeechServices } = await engines();
  const { startSpeechServer } = await import('../../speech/grpc/server.js');
  const services = await createSpeechServices(config, log);
  for (const engine of [services.vad, services.asr, services.tts]) {
    const state = engine.state();
    const msg = `${engine.name}: ${state.status}${state.status === 'ready' ? '' : ` (${state.message})`}`;
    if (state.status === 'ready') log.info({ engine: engine.name, state: state.status }, msg);
    else log.warn({ engine: engine.name, state: state.status }, msg);
  }
  const server = await startSpeechServer({
    services,
    listen: opts.listen ?? config.speech.listen,
    log,
    ...(tls ? { tls } : {}),
  }).catch(async (err: unknown) => {
    await services.close();
    throw err;
  });
  // Load the ASR model now so the first caller does not wait for it.
  const warm = services.asr as { load?: () => Promise<void> };
  if (services.asr.state().status === 'ready' && warm.load) {
    warm.load().catch((err: Error) => log.error({ err: err.message }, 'ASR model failed to load'));
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'speech service stopping');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await server.close();
  await services.close();
  await ctx.close();
  log.info('speech service stopped');
}

async function say(text: string, opts: { out: string; rate?: number; voice?: string }): Promise<void> {
  const ctx = createCliContext();
  const { createSpeechServices } = await engines();
  const { concatPcm, writeWav } = await audioIo();
  const services = await createSpeechServices(ctx.config, ctx.log, speechClientTls(ctx.config));
  try {
    const chunks: TtsChunk[] = [];
    for await (const chunk of services.tts.synthesize(text, {
      ...(opts.rate ? { sampleRate: opts.rate } : {}),
      ...(opts.voice ? { voice: opts.voice } : {}),
    })) {
      chunks.push(chunk);
    }
    if (chunks.length === 0) throw new OtklikError('ENGINE_FAILED', 'the TTS engine produced no audio');
    const audio: PcmAudio = concatPcm(chunks.map((c) => c.audio));
    await writeWav(opts.out, audio);
    process.stderr.write(
      `${opts.out}: ${(audio.samples.length / audio.sampleRate).toFixed(2)} s, ${audio.sampleRate} Hz\n`,
    );
  } finally {
    await services.close();
  }
}

/** A comma-separated option as its phrases. */
function phrases(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}

async function transcribe(
  file: string,
  opts: { json?: boolean; hints?: string; grammar?: string },
): Promise<void> {
  const ctx = createCliContext();
  const { createSpeechServices } = await engines();
  const { readWavFile, resample } = await audioIo();
  const services = await createSpeechServices(ctx.config, ctx.log, speechClientTls(ctx.config));
  try {
    const state = services.asr.state();
    if (state.status === 'model_missing') {
      throw new OtklikError(
        'MODEL_MISSING',
        `модель распознавания речи не установлена / no ASR model installed: ${state.message}`,
      );
    }
    const wav = await readWavFile(file);
    // Vosk takes 8..48 kHz; anything else is brought to 16 kHz, the models' own rate.
    const audio =
      wav.sampleRate >= 8000 && wav.sampleRate <= 48000
        ? wav
        : { sampleRate: 16000, samples: resample(wav.samples, wav.sampleRate, 16000) };
    const grammar = phrases(opts.grammar);
    const stream = await services.asr.createStream({
      sampleRate: audio.sampleRate,
      hints: phrases(opts.hints),
      ...(grammar.length ? { grammar } : {}),
    });
    const finals: AsrResult[] = [];
    try {
      const step = Math.round(audio.sampleRate / 10);
      for (let i = 0; i < audio.samples.length; i += step) {
        const r = await stream.push(audio.samples.subarray(i, i + step));
        if (r?.final && r.text) finals.push(r);
      }
      const last = await stream.finish();
      if (last.text) finals.push(last);
    } finally {
      stream.close();
    }
    const text = finals.map((r) => r.text).join(' ');
    if (opts.json) {
      const words = finals.flatMap((r) => r.words);
      const confidence = finals.length ? finals.reduce((s, r) => s + r.confidence, 0) / finals.length : 0;
      process.stdout.write(`${JSON.stringify({ text, confidence, words })}\n`);
    } else {
      process.stdout.write(`${text}\n`);
    }
  } finally {
    await services.close();
  }
}

const guarded =
  <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
  async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportCliError(err);
    }
  };

export function register(program: Command): void {
  const speech = program
    .command('speech')
    .description('Речь: gRPC-сервис распознавания и синтеза, проверка голоса');
  speech
    .command('serve', { isDefault: true })
    .description('run the speech gRPC service (VAD, ASR, TTS) on config.speech.listen (SPEECH_LISTEN)')
    .option('--listen <host:port>', 'address to listen on')
    .action(guarded(serve));
  speech
    .command('say')
    .description('synthesize Russian speech into a WAV file with the configured TTS')
    .argument('<text>', 'text to speak')
    .requiredOption('-o, --out <file>', 'WAV file to write')
    .option('--rate <hz>', 'output sample rate (e.g. 8000)', parseRate)
    .option('--voice <id>', 'voice id (see the TTS engine)')
    .action(guarded(say));
  speech
    .command('transcribe')
    .description('print the text recognized in a WAV file (PCM16 mono)')
    .argument('<file>', 'WAV file')
    .option('--json', 'print {"text","confidence","words"} as JSON')
    .option(
      '--hints <phrases>',
      'comma-separated words to favour; recognition stays open (Vosk ignores them)',
    )
    .option('--grammar <phrases>', 'comma-separated phrases to restrict recognition to (closed choices)')
    .action(guarded(transcribe));
}
