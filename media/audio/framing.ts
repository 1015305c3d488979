import { OtklikError } from '../../core/errors.js';
import { FRAME_MS, samplesForMs } from './pcm.js';

/**
 * Cuts a stream that arrives in arbitrary pieces (WebSocket messages, pipe reads) into fixed frames,
 * 20 ms by default (160 samples at 8 kHz). Bytes are accepted too: a PCM16 sample split across two
 * network messages is joined, not lost.
 */
export class Framer {
  readonly sampleRate: number;
  readonly frameSamples: number;
  private pending: Int16Array;
  private pendingLen = 0;
  private oddByte: number | null = null;

  constructor(sampleRate: number, frameMs = FRAME_MS) {
    this.sampleRate = sampleRate;
    this.frameSamples = samplesForMs(sampleRate, frameMs);
    if (this.frameSamples <= 0)
      throw new OtklikError(
        'VALIDATION_FAILED',
        `Framer: a ${frameMs} ms frame at ${sampleRate} Hz is empty`,
      );
    this.pending = new Int16Array(this.frameSamples);
  }

  /** Samples waiting for a full frame. */
  get bufferedSamples(): number {
    return this.pendingLen;
  }

  /** Adds samples; returns every frame now complete (each a new array). */
  push(samples: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(this.frameSamples - this.pendingLen, samples.length - i);
      this.pending.set(samples.subarray(i, i + take), this.pendingLen);
      this.pendingLen += take;
      i += take;
      if (this.pendingLen === this.frameSamples) {
        frames.push(this.pending);
        this.pending = new Int16Array(this.frameSamples);
        this.pendingLen = 0;
      }
    }
    return frames;
  }

  /** Adds little-endian PCM16 bytes; an odd trailing byte waits for the next call. */
  pushBytes(bytes: Uint8Array): Int16Array[] {
    let start = 0;
    const lead: number[] = [];
    if (this.oddByte !== null && bytes.length > 0) {
      const v = this.oddByte | (bytes[0]! << 8);
      lead.push(v >= 0x8000 ? v - 0x10000 : v);
      this.oddByte = null;
      start = 1;
    }
    const body = bytes.length - start;
    const count = body >> 1;
    const samples = new Int16Array(lead.length + count);
    if (lead.length) samples[0] = lead[0]!;
    for (let k = 0; k < count; k++) {
      const lo = bytes[start + 2 * k]!;
      const hi = bytes[start + 2 * k + 1]!;
      const v = lo | (hi << 8);
      samples[lead.length + k] = v >= 0x8000 ? v - 0x10000 : v;
    }
    if (body % 2 === 1) this.oddByte = bytes[bytes.length - 1]!;
    return this.push(samples);
  }

  /** Ends the stream: the partial frame padded with silence, or nothing if no samples wait. */
  flush(): Int16Array[] {
    this.oddByte = null;
    if (this.pendingLen === 0) return [];
    const last = this.pending;
    last.fill(0, this.pendingLen);
    this.pending = new Int16Array(this.frameSamples);
    this.pendingLen = 0;
    return [last];
  }
}

/** Splits a whole recording into fixed frames; the last one is padded with silence. */
export function toFrames(samples: Int16Array, sampleRate: number, frameMs = FRAME_MS): Int16Array[] {
  const framer = new Framer(sampleRate, frameMs);
  return [...framer.push(samples), ...framer.flush()];
}
