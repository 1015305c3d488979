import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { KnowledgeBase } from '../kb/types.js';
import { encodeWav } from '../media/audio/wav.js';
import type { TtsEngine } from '../speech/types.js';

/**
 * The messages telephony plays on its own, when the voice bot cannot: synthesized once at start-up into WAV
 * files FreeSWITCH plays from disk, so that they still play when the bot or the speech service is down.
 * Texts come from the knowledge base's prompts where it has them.
 */
export type TelephonyPromptId =
  | 'technical_fallback'
  | 'queue_wait'
  | 'operators_busy'
  | 'service_unavailable'
  | 'queue_callback_offer'
  | 'queue_callback_done'
  | 'queue_overflow_queue'
  | 'survey_after_operator'
  | 'survey_thanks';
export type PromptFiles = Partial<Record<TelephonyPromptId, string>>;

export const defaultPromptTexts: Record<TelephonyPromptId, string> = {
  technical_fallback:
    'Извините, произошла техническая ошибка. Соединяем вас с оператором. Пожалуйста, оставайтесь на линии.',
  queue_wait:
    'Все операторы сейчас заняты. Пожалуйста, оставайтесь на линии, вам ответит первый освободившийся оператор.',
  operators_busy:
    'К сожалению, все операторы заняты. Мы зарегистрировали ваш звонок и перезвоним вам в ближайшее время. До свидания.',
  service_unavailable:
    'Извините, линия сто двадцать два временно не может принять ваш звонок. Пожалуйста, перезвоните через несколько минут. Если есть угроза жизни или здоровью, звоните сто двенадцать.',
  queue_callback_offer:
    'Если не хотите ждать, нажмите один, и мы перезвоним, как только освободится оператор.',
  // Said instead of queue_callback_registered where the number cannot be synthesized (no TTS at call time).
  queue_callback_done: 'Мы перезвоним вам, как только освободится оператор. Оставайтесь на связи.',
  queue_overflow_queue: 'Переводим ваш звонок другим специалистам. Время, которое вы уже ждали, сохраняется.',
  // The survey telephony plays once an operator or an agency hung up first: keys only, the bot is not on the call.
  survey_after_operator:
    'Пожалуйста, оцените разговор: нажмите на телефоне цифру от одного до пяти, где пять — отлично.',
  survey_thanks: 'Спасибо за оценку!',
};

/**
 * What a waiting caller hears that is said anew each time (position, expected wait, the number called back):
 * KB prompts with placeholders, synthesized at call time (speakToFile). The same ids the voice bot says.
 */
export type AnnouncementId = 'queue_position' | 'queue_expected_wait' | 'queue_callback_registered';
export const announcementTexts: Record<AnnouncementId, string> = {
  queue_position: 'Вы {position} в очереди.',
  queue_expected_wait: 'Примерное время ожидания — {wait}.',
  queue_callback_registered: 'Мы перезвоним вам на номер {number}. Оставайтесь на связи.',
};

const SAMPLE_RATE = 8000;

async function synthesize(tts: TtsEngine, text: string): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { sampleRate: SAMPLE_RATE }))
    parts.push(chunk.audio.samples);
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Writes each prompt as an 8 kHz WAV under `dir` (named by a hash of engine and text, so an edited text gets
 * a new file) and returns the paths. A prompt that cannot be synthesized is left out and logged: the call
 * still goes to the queue, only without that message.
 */
/** Writes `text` as an 8 kHz WAV under `dir`, named by a hash of engine and text (kept: said again, reused). */
export async function speakToFile(dir: string, tts: TtsEngine, name: string, text: string): Promise<string> {
  const hash = createHash('sha256').update(`${tts.name}\n${text}`).digest('hex').slice(0, 16);
  const path = join(dir, `${name}-${hash}.wav`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const samples = await synthesize(tts, text);
  if (samples.length === 0) throw new Error('the engine returned no audio');
  // Written under a temporary name first: FreeSWITCH must never play a half-written file.
  writeFileSync(`${path}.tmp`, encodeWav({ samples, sampleRate: SAMPLE_RATE }));
  renameSync(`${path}.tmp`, path);
  return path;
}

export async function preparePrompts(opts: {
  dir: string;
  tts: TtsEngine;
  kb?: KnowledgeBase | null;
  log: Logger;
}): Promise<PromptFiles> {
  mkdirSync(opts.dir, { recursive: true });
  const files: PromptFiles = {};
  for (const id of Object.keys(defaultPromptTexts) as TelephonyPromptId[]) {
    const text = (await opts.kb?.prompt(id).catch(() => null)) || defaultPromptTexts[id];
    try {
      files[id] = await speakToFile(opts.dir, opts.tts, id, text);
    } catch (err) {
      opts.log.error({ err, prompt: id }, 'cannot synthesize a telephony prompt');
    }
  }
  return files;
}
