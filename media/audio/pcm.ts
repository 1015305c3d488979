import { endianness } from 'node:os';
import { OtklikError } from '../../core/errors.js';

/**
 * PCM16 mono helpers. Audio moves through the project as Int16Array samples with an explicit sample rate;
 * levels are measured relative to full scale (dBFS) so that thresholds do not depend on the sample rate.
 */

/** A chunk of PCM16 little-endian mono audio. */
export interface PcmAudio {
  sampleRate: number;
  samples: Int16Array;
}

/** The frame length every part uses for telephony audio. */
export const FRAME_MS = 20;

const FULL_SCALE = 32768;
/** dBFS reported for digital silence (log of zero is -Infinity, which JSON and comparisons handle badly). */
export const SILENCE_DBFS = -120;

const littleEndianHost = endianness() === 'LE';

export function samplesForMs(sampleRate: number, ms: number): number {
  return Math.round((sampleRate * ms) / 1000);
}

export function durationMs(audio: PcmAudio): number {
  return (audio.samples.length * 1000) / audio.sampleRate;
}

/** Root mean square level, 0..1 of full scale. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]! / FULL_SCALE;
    sum += s * s;
  }
  return Math.sqrt(sum / samples.length);
}

/** RMS level in dBFS (a full-scale sine is about -3 dBFS); silence gives SILENCE_DBFS. */
export function dbfs(samples: Int16Array): number {
  const level = rms(samples);
  return level > 0 ? Math.max(SILENCE_DBFS, 20 * Math.log10(level)) : SILENCE_DBFS;
}

/** Peak absolute sample value, 0..1 of full scale. */
export function peak(samples: Int16Array): number {
  let max = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]!);
    if (a > max) max = a;
  }
  return max / FULL_SCALE;
}

export function concatSamples(parts: readonly Int16Array[]): Int16Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Int16Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Concatenates audio of one sample rate; mixing rates is a programming error, so it throws. */
export function concatPcm(parts: readonly PcmAudio[], sampleRate = parts[0]?.sampleRate ?? 8000): PcmAudio {
  for (const p of parts) {
    if (p.sampleRate !== sampleRate) {
      throw new OtklikError(
        'VALIDATION_FAILED',
        `concatPcm: ${p.sampleRate} Hz audio among ${sampleRate} Hz audio; resample first`,
      );
    }
  }
  return { sampleRate, samples: concatSamples(parts.map((p) => p.samples)) };
}

export function silence(sampleRate: number, ms: number): PcmAudio {
  return { sampleRate, samples: new Int16Array(samplesForMs(sampleRate, ms)) };
}

/** A sine tone, for tests, calibration and beeps. amplitude is 0..1 of full scale. */
export function tone(sampleRate: number, frequencyHz: number, ms: number, amplitude = 0.5): PcmAudio {
  const n = samplesForMs(sampleRate, ms);
  const samples = new Int16Array(n);
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let i = 0; i < n; i++) samples[i] = Math.round(Math.sin(i * step) * amplitude * 32767);
  return { sampleRate, samples };
}

/** Multiplies every sample by a linear gain, clipping at full scale. */
export function applyGain(samples: Int16Array, gain: number): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = clampToInt16(samples[i]! * gain);
  return out;
}

export function clampToInt16(value: number): number {
  const r = Math.round(value);
  return Math.min(32767, Math.max(-32768, r));
}

export function int16ToFloat32(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / FULL_SCALE;
  return out;
}

export function float32ToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = clampToInt16(samples[i]! * 32767);
  return out;
}

/** Little-endian PCM16 bytes → samples. An odd trailing byte is ignored (framing.ts carries it over). */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  const n = bytes.length >> 1;
  if (littleEndianHost && bytes.byteOffset % 2 === 0) {
    return new Int16Array(bytes.buffer, bytes.byteOffset, n).slice();
  }
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** Samples → little-endian PCM16 bytes (a copy, safe to hand to a socket). */
export function pcm16ToBytes(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  if (littleEndianHost) {
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
    return out;
  }
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}

/**
 * Where the audible part of a recording starts and ends: the first and last 10 ms block whose level is
 * above thresholdDbfs. Returns null when nothing is that loud.
 */
export function findAudibleRange(
  audio: PcmAudio,
  thresholdDbfs = -40,
): { startMs: number; endMs: number; startSample: number; endSample: number } | null {
  const block = Math.max(1, samplesForMs(audio.sampleRate, 10));
  let first = -1;
  let last = -1;
  for (let i = 0; i < audio.samples.length; i += block) {
    if (dbfs(audio.samples.subarray(i, i + block)) > thresholdDbfs) {
      if (first < 0) first = i;
      last = Math.min(audio.samples.length, i + block);
    }
  }
  if (first < 0) return null;
  return {
    startSample: first,
    endSample: last,
    startMs: (first * 1000) / audio.sampleRate,
    endMs: (last * 1000) / audio.sampleRate,
  };
}
