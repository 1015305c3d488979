import { OtklikError } from '../../core/errors.js';
import { clampToInt16 } from './pcm.js';

/**
 * Band-limited sample-rate conversion by a polyphase windowed-sinc filter (Kaiser window). Every rational
 * ratio the project meets (8 k ↔ 16 k ↔ 22.05 k ↔ 48 k) reduces to L/M with a small L, so one filter row
 * per output phase is precomputed. The low-pass cuts at 90 % of the lower Nyquist frequency, so going down
 * to 8 kHz removes everything above ~3.6 kHz instead of folding it back as aliasing, and going up removes
 * the spectral images. Output sample n sits exactly at input time n·from/to (the filter is symmetric and
 * looks ahead), so resampled audio stays aligned with the original.
 */

export interface ResamplerOptions {
  /** Zero crossings of the sinc on each side: longer filters give a steeper cut-off. */
  zeroCrossings?: number;
  /** Pass band edge as a fraction of the lower Nyquist frequency. */
  cutoff?: number;
  /** Kaiser window beta: higher gives deeper stop-band attenuation (8 ≈ 80 dB). */
  kaiserBeta?: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const half = x / 2;
  for (let k = 1; k < 50; k++) {
    term *= (half / k) * (half / k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

interface FilterBank {
  up: number;
  down: number;
  /** Taps on each side: output at input time t reads inputs floor(t)-reach+1 .. floor(t)+reach. */
  reach: number;
  taps: number;
  table: Float32Array;
}

const bankCache = new Map<string, FilterBank>();

function filterBank(fromRate: number, toRate: number, opts: ResamplerOptions): FilterBank {
  const zeroCrossings = opts.zeroCrossings ?? 16;
  const cutoff = opts.cutoff ?? 0.9;
  const beta = opts.kaiserBeta ?? 8;
  const key = `${fromRate}:${toRate}:${zeroCrossings}:${cutoff}:${beta}`;
  const cached = bankCache.get(key);
  if (cached) return cached;

  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  // Cut-off in cycles per input sample.
  const fc = (cutoff * Math.min(fromRate, toRate)) / 2 / fromRate;
  const halfWidth = zeroCrossings / (2 * fc);
  const reach = Math.ceil(halfWidth);
  const taps = 2 * reach;
  const table = new Float32Array(up * taps);
  const i0Beta = besselI0(beta);
  for (let phase = 0; phase < up; phase++) {
    const frac = phase / up;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const d = j - reach + 1 - frac;
      let w = 0;
      if (Math.abs(d) < halfWidth) {
        const x = 2 * fc * d;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const r = d / halfWidth;
        w = 2 * fc * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta);
      }
      table[phase * taps + j] = w;
      sum += w;
    }
    // Unity gain at DC for every phase, so a constant signal stays constant (no ripple between phases).
    for (let j = 0; j < taps; j++) table[phase * taps + j]! /= sum;
  }
  const bank = { up, down, reach, taps, table };
  bankCache.set(key, bank);
  return bank;
}

/**
 * Resamples a continuous stream chunk by chunk: the filter history carries over between push() calls, so
 * 20 ms frames come out exactly as if the whole stream had been resampled at once (no clicks at frame
 * edges). The output lags the input by the filter's look-ahead (reach input samples); flush() returns the
 * rest at the end of the stream.
 */
export class StreamingResampler {
  readonly fromRate: number;
  readonly toRate: number;
  private readonly bank: FilterBank | null;
  private buf: Float32Array;
  private bufLen: number;
  /** Absolute input index of buf[0] (negative at the start: the zeros before the stream). */
  private bufStart: number;
  /** Integer part and phase (in 1/up units) of the next output's input time. */
  private pos = 0;
  private phase = 0;
  private inputCount = 0;
  private outputCount = 0;
  private flushed = false;

  constructor(fromRate: number, toRate: number, opts: ResamplerOptions = {}) {
    for (const [name, rate] of [
      ['fromRate', fromRate],
      ['toRate', toRate],
    ] as const) {
      if (!Number.isInteger(rate) || rate <= 0)
        throw new OtklikError(
          'VALIDATION_FAILED',
          `resample: ${name} must be a positive integer, got ${rate}`,
        );
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.bank = fromRate === toRate ? null : filterBank(fromRate, toRate, opts);
    const reach = this.bank?.reach ?? 0;
    this.buf = new Float32Array(Math.max(1024, reach * 4));
    this.bufLen = Math.max(0, reach - 1);
    this.bufStart = -this.bufLen;
  }

  /** Input samples the output lags behind by, until flush(). */
  get latencySamples(): number {
    return this.bank?.reach ?? 0;
  }

  push(samples: Int16Array): Int16Array {
    if (this.flushed) throw new OtklikError('VALIDATION_FAILED', 'StreamingResampler: push() after flush()');
    if (!this.bank) return samples.slice();
    this.append(samples, samples.length);
    this.inputCount += samples.length;
    return this.drain(Number.POSITIVE_INFINITY);
  }

  /** Ends the stream: the remaining output, as if silence followed. */
  flush(): Int16Array {
    if (this.flushed || !this.bank) {
      this.flushed = true;
      return new Int16Array(0);
    }
    this.flushed = true;
    this.append(null, this.bank.reach);
    const expected = Math.ceil((this.inputCount * this.bank.up) / this.bank.down);
    return this.drain(expected - this.outputCount);
  }

  private append(samples: Int16Array | null, count: number): void {
    if (this.bufLen + count > this.buf.length) {
      const grown = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + count));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    if (samples) {
      for (let i = 0; i < count; i++) this.buf[this.bufLen + i] = samples[i]!;
    } else {
      this.buf.fill(0, this.bufLen, this.bufLen + count);
    }
    this.bufLen += count;
  }

  private drain(limit: number): Int16Array {
    const { up, down, reach, taps, table } = this.bank!;
    const lastIndex = this.bufStart + this.bufLen - 1;
    // Outputs whose input time t satisfies floor(t) + reach <= lastIndex, i.e. t < lastIndex - reach + 1.
    const span = (lastIndex - reach + 1 - this.pos) * up - this.phase;
    const available = span > 0 ? Math.ceil(span / down) : 0;
    const count = Math.max(0, Math.min(limit, available));
    const out = new Int16Array(count);
    const buf = this.buf;
    for (let n = 0; n < count; n++) {
      const base = this.pos - this.bufStart - reach + 1;
      const row = this.phase * taps;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += buf[base + j]! * table[row + j]!;
      out[n] = clampToInt16(acc);
      this.phase += down;
      if (this.phase >= up) {
        this.pos += Math.floor(this.phase / up);
        this.phase %= up;
      }
    }
    this.outputCount += count;
    // Drop input no future output reads (keep reach-1 samples of history before pos).
    const keepFrom = this.pos - reach + 1 - this.bufStart;
    if (keepFrom > 4096) {
      this.buf.copyWithin(0, keepFrom, this.bufLen);
      this.bufLen -= keepFrom;
      this.bufStart += keepFrom;
    }
    return out;
  }
}

/** Resamples a whole recording; the result has ceil(n·to/from) samples, aligned with the input. */
export function resample(
  samples: Int16Array,
  fromRate: number,
  toRate: number,
  opts: ResamplerOptions = {},
): Int16Array {
  if (fromRate === toRate) return samples.slice();
  const r = new StreamingResampler(fromRate, toRate, opts);
  const head = r.push(samples);
  const tail = r.flush();
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
