import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { KnowledgeBase } from '../../kb/types.js';
import { parseClock, zonedInstant } from '../../kb/zoned-time.js';
import { durationMs } from '../../media/audio/pcm.js';
import { readWav } from '../../media/audio/wav.js';
import type { HandOff } from '../../media/handoff.js';
import { normalize } from '../../nlu/normalize.js';
import type { IntentClassifier } from '../../nlu/types.js';
import { transcribeAudio } from '../../speech/transcribe.js';
import type { AsrEngine, PcmAudio } from '../../speech/types.js';
import { previewBotTurn } from '../../voicebot/flow/preview.js';
import type { TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * «Проверка фразы» (the knowledge studio's "Try it"): an editor or approver types a phrase, or uploads a short
 * WAV where an ASR model is installed, and sees what the NLU makes of it (normalized text, intent and
 * confidence, alternatives, entities) and what the bot would do and say with it at a moment they choose
 * (voicebot/flow/preview.ts: the approved version or `answer_unavailable`, the handling, the agency and its
 * hours, the prompts). Nothing is stored: a try is a read, like opening a page, and is not audited.
 */
export interface StudioTryOptions {
  kb: KnowledgeBase;
  /** The serving intent classifier (the one calls use now). */
  nlu: () => IntentClassifier;
  /** This process's speech recognizer; absent when the speech engines did not start. */
  asr?: AsrEngine;
  /** Whether an operator is signed in (the operator queue): a chat someone can take waits for them. */
  handOff?: Pick<HandOff, 'staffed'>;
  log: Logger;
  now?: () => Date;
}

/** A WAV upload: a few seconds of a phrase (1 MB is half a minute at 16 kHz). */
const MAX_AUDIO_BYTES = 1024 * 1024;
const MAX_AUDIO_MS = 30_000;
const audioTypes = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave', 'application/octet-stream'];

const atField = Type.String({
  maxLength: 40,
  description:
    'Момент звонка: ISO 8601 со смещением, или местное время региона «ГГГГ-ММ-ДДTЧЧ:ММ»; по умолчанию сейчас',
});
const channelField = Type.Union([Type.Literal('phone'), Type.Literal('text')], {
  description: 'phone — звонок (устные подсказки), text — веб-чат (письменные); по умолчанию phone',
});

export async function studioTryPlugin(app: TypedApp, opts: StudioTryOptions): Promise<void> {
  const { kb, log } = opts;
  const now = opts.now ?? (() => new Date());
  const who = requireRole('editor', 'approver');

  /** The moment asked for: an instant, or the region's wall-clock time; none: now. */
  async function momentOf(at: string | undefined): Promise<Date> {
    if (!at) return now();
    const local = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})$/.exec(at);
    if (local) {
      try {
        return zonedInstant(local[1]!, parseClock(local[2]!), await kb.timezone());
      } catch {
        // Falls through to the refusal below.
      }
    } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(at)) {
      const instant = new Date(at);
      if (!Number.isNaN(instant.getTime())) return instant;
    }
    throw new OtklikError(
      'VALIDATION_FAILED',
      `Неверное время звонка «${at}»: укажите дату и время, например 2026-11-24T11:00`,
    );
  }

  async function tryPhrase(text: string, at: Date, channel: 'phone' | 'text') {
    const classifier = opts.nlu();
    const c = classifier.classify(text, { now: at });
    const bot = await previewBotTurn({
      kb,
      classification: c,
      at,
      channel,
      log,
      ...(opts.handOff ? { handOff: opts.handOff } : {}),
    });
    const titles = new Map((await kb.intents()).map((i) => [i.id, i.title]));
    return {
      text,
      normalized: normalize(text),
      at: at.toISOString(),
      timeZone: await kb.timezone(),
      channel,
      modelVersion: classifier.modelVersion,
      kbVersion: await kb.version(),
      intent: c.intent,
      intentTitle: titles.get(c.intent) ?? null,
      confidence: c.confidence,
      needsConfirmation: c.needsConfirmation,
      emergency: c.emergency,
      emergencySuspected: c.emergencySuspected,
      alternatives: c.alternatives.map((a) => ({ ...a, title: titles.get(a.intent) ?? null })),
      entities: c.entities,
      bot,
    };
  }

  app.post(
    '/api/kb/try',
    {
      preHandler: who,
      schema: {
        tags: ['kb'],
        summary: 'Проверка фразы: как её поймёт бот и что он ответит сейчас',
        description:
          'Нормализованный текст, намерение с уверенностью, альтернативы, сущности и что сделает бот в указанный момент: согласованная версия ответа или сообщение, что её нет, обработка, открыто ли ведомство, подсказки. Ничего не сохраняет.',
        body: Type.Object({
          text: Type.String({ minLength: 1, maxLength: 500 }),
          at: Type.Optional(atField),
          channel: Type.Optional(channelField),
        }),
      },
    },
    async (request) => {
      const text = request.body.text.trim();
      if (!text) throw new OtklikError('VALIDATION_FAILED', 'Введите фразу для проверки');
      return tryPhrase(text, await momentOf(request.body.at), request.body.channel ?? 'phone');
    },
  );

  // The recording comes as the body itself (audio/wav), not as JSON.
  const fastify = app as unknown as FastifyInstance;
  fastify.addContentTypeParser(
    audioTypes,
    { parseAs: 'buffer', bodyLimit: MAX_AUDIO_BYTES },
    (_r, body, done) => done(null, body),
  );

  app.post(
    '/api/kb/try/audio',
    {
      preHandler: who,
      bodyLimit: MAX_AUDIO_BYTES,
      schema: {
        tags: ['kb'],
        summary: 'Проверка фразы по записи: распознать WAV и показать, что ответит бот',
        description:
          'Тело — запись WAV (PCM 16 бит, моно, 8–16 кГц, до 30 секунд, до 1 МБ), Content-Type audio/wav. Без установленной модели распознавания — 503 MODEL_MISSING.',
        querystring: Type.Object({ at: Type.Optional(atField), channel: Type.Optional(channelField) }),
      },
    },
    async (request) => {
      const audio = readUpload(request.body);
      const at = await momentOf(request.query.at);
      const asr = opts.asr;
      if (!asr)
        throw new OtklikError(
          'ENGINE_FAILED',
          'Речевые движки не запущены: проверка по записи недоступна. Введите фразу текстом.',
          { retryable: true },
        );
      const state = asr.state();
      if (state.status === 'model_missing')
        throw new OtklikError(
          'MODEL_MISSING',
          'Модель распознавания речи не установлена: проверка по записи недоступна. Введите фразу текстом или установите модель (otklik models fetch).',
        );
      if (state.status === 'failed')
        throw new OtklikError('ENGINE_FAILED', 'Распознавание речи не работает. Введите фразу текстом.', {
          retryable: true,
        });
      const heard = await transcribeAudio(asr, audio, { hints: await kb.vocabulary() });
      const recognized = { text: heard.text, confidence: heard.confidence, durationMs: durationMs(audio) };
      if (!heard.text) return { recognized, result: null };
      return { recognized, result: await tryPhrase(heard.text, at, request.query.channel ?? 'phone') };
    },
  );
}

/** The upload as PCM audio, or a 400 that says in Russian what is wrong with it. */
function readUpload(body: unknown): PcmAudio {
  if (!Buffer.isBuffer(body) || body.length === 0)
    throw new OtklikError('AUDIO_MALFORMED', 'Пришлите запись WAV в теле запроса (Content-Type: audio/wav)');
  let audio: PcmAudio;
  try {
    audio = readWav(body);
  } catch {
    throw new OtklikError(
      'AUDIO_MALFORMED',
      'Файл не является записью WAV, которую можно распознать: нужен WAV PCM 16 бит, моно, 8–16 кГц',
    );
  }
  if (audio.sampleRate < 8000 || audio.sampleRate > 16000)
    throw new OtklikError(
      'AUDIO_MALFORMED',
      `Частота дискретизации записи ${audio.sampleRate} Гц не подходит: нужна запись 8–16 кГц`,
    );
  const ms = durationMs(audio);
  if (ms === 0) throw new OtklikError('AUDIO_MALFORMED', 'Запись пустая');
  if (ms > MAX_AUDIO_MS)
    throw new OtklikError(
      'AUDIO_MALFORMED',
      `Запись длиннее ${MAX_AUDIO_MS / 1000} секунд: для проверки нужна одна короткая фраза`,
    );
  return audio;
}
