import { readFile } from 'node:fs/promises';
import { OtklikError } from '../../core/errors.js';
import { findExecutable, runProgram } from './process.js';

/**
 * Text → Piper phoneme ids. Piper voices are trained on espeak-ng IPA: the text is phonemized clause by
 * clause with `espeak-ng -q --ipa` (espeak-ng drops punctuation from its IPA output, so the clause marks are
 * put back the way Piper's own phonemizer keeps them), NFD-decomposed into code points, and each code point
 * mapped through the voice's phoneme_id_map: ids = [^, _] + (phoneme, _)* + [$].
 */

export interface PiperVoiceConfig {
  audio: { sample_rate: number; quality?: string };
  espeak: { voice: string };
  inference: { noise_scale: number; length_scale: number; noise_w: number };
  phoneme_id_map: Record<string, number[]>;
  num_speakers: number;
  speaker_id_map?: Record<string, number>;
  dataset?: string;
}

export async function loadPiperConfig(path: string): Promise<PiperVoiceConfig> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new OtklikError(
      'MODEL_MISSING',
      `Piper voice config ${path} cannot be read: ${(err as Error).message}`,
      { cause: err },
    );
  }
  let config: PiperVoiceConfig;
  try {
    config = JSON.parse(raw) as PiperVoiceConfig;
  } catch (err) {
    throw new OtklikError('MODEL_BROKEN', `Piper voice config ${path} is not valid JSON`, { cause: err });
  }
  if (!config.phoneme_id_map || !config.audio?.sample_rate) {
    throw new OtklikError(
      'MODEL_BROKEN',
      `Piper voice config ${path} lacks phoneme_id_map or audio.sample_rate`,
    );
  }
  for (const sym of ['^', '_', '$']) {
    if (!config.phoneme_id_map[sym])
      throw new OtklikError('MODEL_BROKEN', `Piper voice config ${path}: no id for "${sym}"`);
  }
  return config;
}

export interface PhonemeIds {
  ids: number[];
  /** Code points the voice has no id for (dropped). */
  unknown: string[];
}

export function phonemesToIds(phonemes: string, idMap: Record<string, number[]>): PhonemeIds {
  const ids: number[] = [...idMap['^']!, ...idMap._!];
  const unknown: string[] = [];
  for (const symbol of Array.from(phonemes.normalize('NFD'))) {
    const id = idMap[symbol];
    if (!id) {
      unknown.push(symbol);
      continue;
    }
    ids.push(...id, ...idMap._!);
  }
  ids.push(...idMap.$!);
  return { ids, unknown };
}

export interface PhonemizeOptions {
  voice?: string;
  binary?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** «Здравствуйте, вы позвонили.» → «zdrˈɑvstvujtʲi, vˈy pʌzvʌnʲˈiɭʲɪ.» */
export async function phonemizeIpa(text: string, opts: PhonemizeOptions = {}): Promise<string> {
  const binary = findExecutable(opts.binary ?? 'espeak-ng');
  if (!binary)
    throw new OtklikError(
      'MODEL_MISSING',
      'espeak-ng is not installed (apt-get install espeak-ng); Piper needs it for phonemes',
    );
  const clauses = [...text.matchAll(/([^,.;:!?]+)([,.;:!?]*)/g)]
    .map((m) => ({ words: m[1]!.trim(), mark: m[2]!.slice(0, 1) }))
    .filter((c) => /[\p{L}\d]/u.test(c.words));
  const phonemes = await Promise.all(
    clauses.map(async ({ words }) => {
      const { stdout } = await runProgram(
        binary,
        ['-v', opts.voice ?? 'ru', '-q', '--ipa', '-b', '1', '--stdin'],
        {
          input: words,
          timeoutMs: opts.timeoutMs ?? 5000,
          signal: opts.signal,
        },
      );
      return stdout.toString('utf8').replace(/\s+/g, ' ').trim();
    }),
  );
  return clauses
    .map((c, i) => `${phonemes[i]}${c.mark}`)
    .join(' ')
    .trim();
}
