/** The most recent audio of a stream, so that speech_start can hand over the audio from just before the onset. */
export class AudioHistory {
  private readonly buf: Int16Array;
  private written = 0;

  constructor(capacitySamples: number) {
    this.buf = new Int16Array(Math.max(1, capacitySamples));
  }

  /** Total samples ever appended (the stream position of the end of the history). */
  get position(): number {
    return this.written;
  }

  append(samples: Int16Array): void {
    const cap = this.buf.length;
    const src = samples.length > cap ? samples.subarray(samples.length - cap) : samples;
    const skipped = samples.length - src.length;
    let at = (this.written + skipped) % cap;
    let i = 0;
    while (i < src.length) {
      const n = Math.min(cap - at, src.length - i);
      this.buf.set(src.subarray(i, i + n), at);
      i += n;
      at = (at + n) % cap;
    }
    this.written += samples.length;
  }

  /** Samples from stream position `from` (clamped to what is kept) to the end. */
  since(from: number): Int16Array {
    const cap = this.buf.length;
    const start = Math.max(from, this.written - cap, 0);
    const out = new Int16Array(this.written - start);
    for (let k = 0; k < out.length; k++) out[k] = this.buf[(start + k) % cap]!;
    return out;
  }
}
