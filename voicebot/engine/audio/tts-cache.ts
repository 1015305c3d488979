/**
 * Synthesized prompts and answers, kept in memory by text: the same approved answer is asked for again
 * and again on a help line, and replaying cached audio sends its first frame without waiting for the
 * synthesizer. Least recently used entries go first once `maxSamples` of audio is held.
 */
import type { PcmAudio } from '../../../speech/types.js';

export class TtsCache {
  private readonly entries = new Map<string, PcmAudio[]>();
  private samples = 0;
  hits = 0;
  misses = 0;

  /** Default: about 30 minutes of 8 kHz audio (~29 MB). */
  constructor(private readonly maxSamples = 8000 * 60 * 30) {}

  static key(text: string, sampleRate: number, voice = ''): string {
    return `${voice}|${sampleRate}|${text}`;
  }

  get(key: string): PcmAudio[] | undefined {
    const found = this.entries.get(key);
    if (!found) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, found);
    return found;
  }

  set(key: string, chunks: PcmAudio[]): void {
    const size = chunks.reduce((n, c) => n + c.samples.length, 0);
    if (size > this.maxSamples) return;
    const old = this.entries.get(key);
    if (old) {
      this.samples -= old.reduce((n, c) => n + c.samples.length, 0);
      this.entries.delete(key);
    }
    this.entries.set(key, chunks);
    this.samples += size;
    for (const [oldest, value] of this.entries) {
      if (this.samples <= this.maxSamples) break;
      this.entries.delete(oldest);
      this.samples -= value.reduce((n, c) => n + c.samples.length, 0);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
