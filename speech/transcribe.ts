/**
 * One recording recognized whole: the audio is fed to a stream in tenths of a second, as a call's would be,
 * and the final results are joined. Used for short uploads (the knowledge editors' «Проверка фразы»).
 */
import type { AsrEngine, AsrOptions, AsrResult, PcmAudio } from './types.js';

export interface Transcript {
  text: string;
  /** Mean confidence of the final results; 0 when nothing was recognized. */
  confidence: number;
}

export async function transcribeAudio(
  asr: AsrEngine,
  audio: PcmAudio,
  opts: Omit<AsrOptions, 'sampleRate'> = {},
): Promise<Transcript> {
  const stream = await asr.createStream({ ...opts, sampleRate: audio.sampleRate });
  const finals: AsrResult[] = [];
  try {
    const step = Math.max(1, Math.round(audio.sampleRate / 10));
    for (let i = 0; i < audio.samples.length; i += step) {
      const r = await stream.push(audio.samples.subarray(i, i + step));
      if (r?.final && r.text) finals.push(r);
    }
    const last = await stream.finish();
    if (last.text) finals.push(last);
  } finally {
    stream.close();
  }
  return {
    text: finals.map((r) => r.text).join(' '),
    confidence: finals.length ? finals.reduce((s, r) => s + r.confidence, 0) / finals.length : 0,
  };
}
