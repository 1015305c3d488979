import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOtklikError } from '../../core/errors.js';
import { Framer, toFrames } from './framing.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from './g711.js';
import { concatPcm, dbfs, durationMs, pcm16FromBytes, pcm16ToBytes, rms, silence, tone } from './pcm.js';
import { resample, StreamingResampler } from './resample.js';
import { encodeWav, readWav, readWavInterleaved } from './wav.js';

/** Level of one frequency in a signal (single-bin DFT), in dBFS of a sine's amplitude. */
function toneLevelDb(samples: Int16Array, sampleRate: number, hz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = (2 * Math.PI * hz * i) / sampleRate;
    re += samples[i]! * Math.cos(a);
    im += samples[i]! * Math.sin(a);
  }
  const amplitude = (2 * Math.hypot(re, im)) / samples.length / 32768;
  return 20 * Math.log10(Math.max(amplitude, 1e-9));
}

describe('pcm levels', () => {
  it('measures a half-scale sine at about -9 dBFS and silence at the floor', () => {
    const sine = tone(8000, 1000, 500, 0.5);
    assert.ok(Math.abs(dbfs(sine.samples) - -9.03) < 0.1, `got ${dbfs(sine.samples)}`);
    assert.ok(Math.abs(rms(sine.samples) - 0.5 / Math.SQRT2) < 0.01);
    assert.equal(dbfs(silence(8000, 100).samples), -120);
    assert.equal(durationMs(concatPcm([silence(8000, 100), sine])), 600);
  });

  it('converts bytes and samples both ways', () => {
    const s = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    assert.deepEqual(pcm16FromBytes(pcm16ToBytes(s)), s);
    assert.throws(() => concatPcm([silence(8000, 10), silence(16000, 10)]), /resample first/);
  });
});

describe('G.711', () => {
  const ramp = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
  for (const [name, encode, decode] of [
    ['μ-law', ulawEncode, ulawDecode],
    ['A-law', alawEncode, alawDecode],
  ] as const) {
    it(`${name} round trip stays within the companding step`, () => {
      const back = decode(encode(ramp));
      for (let i = 0; i < ramp.length; i++) {
        const x = ramp[i]!;
        const err = Math.abs(back[i]! - x);
        // Each segment's quantization step is 1/16 of its range: relative error under ~3.5 % (half a step of the bin, plus the μ-law bias), and small absolute
        // error near zero.
        assert.ok(err <= Math.max(36, Math.abs(x) * 0.035), `${name}: ${x} → ${back[i]} (error ${err})`);
      }
    });

    it(`${name} keeps a speech-level sine at telephone quality (SNR > 30 dB)`, () => {
      const sine = tone(8000, 440, 1000, 0.3).samples;
      const back = decode(encode(sine));
      let sig = 0;
      let noise = 0;
      for (let i = 0; i < sine.length; i++) {
        sig += sine[i]! ** 2;
        noise += (sine[i]! - back[i]!) ** 2;
      }
      assert.ok(10 * Math.log10(sig / noise) > 30);
    });

    it(`${name} byte → sample → byte is the identity`, () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const again = encode(decode(bytes));
      for (let i = 0; i < 256; i++) {
        // Both codes for zero (+0 / -0) decode to nearly the same value; every other code maps back to itself.
        if (Math.abs(decode(bytes.subarray(i, i + 1))[0]!) > 16) assert.equal(again[i], i, `code ${i}`);
      }
    });
  }
});

describe('resampler', () => {
  it('a 1 kHz sine survives 8k → 16k → 8k', () => {
    const original = tone(8000, 1000, 1000, 0.5).samples;
    const up = resample(original, 8000, 16000);
    assert.equal(up.length, 16000);
    assert.ok(toneLevelDb(up, 16000, 1000) > -6.5, 'the tone keeps its level at 16 kHz');
    assert.ok(toneLevelDb(up, 16000, 7000) < -60, 'no image at 7 kHz');
    const back = resample(up, 16000, 8000);
    assert.equal(back.length, 8000);
    // Away from the edges the round trip matches the original sample by sample.
    let maxErr = 0;
    for (let i = 100; i < 7900; i++) maxErr = Math.max(maxErr, Math.abs(back[i]! - original[i]!));
    assert.ok(maxErr < 200, `max error ${maxErr} of 16384`);
  });

  it('removes a 5 kHz tone going 16k → 8k instead of aliasing it to 3 kHz', () => {
    const mixed = tone(16000, 5000, 1000, 0.5).samples;
    const down = resample(mixed, 16000, 8000);
    assert.ok(toneLevelDb(down, 8000, 3000) < -60, `alias at 3 kHz: ${toneLevelDb(down, 8000, 3000)} dB`);
    assert.ok(dbfs(down.subarray(200, 7800)) < -60);
    const speechBand = resample(tone(16000, 1000, 1000, 0.5).samples, 16000, 8000);
    assert.ok(toneLevelDb(speechBand, 8000, 1000) > -6.5);
  });

  it('converts 22.05 kHz TTS output to 8 kHz with the right length and level', () => {
    const src = tone(22050, 800, 2000, 0.5).samples;
    const out = resample(src, 22050, 8000);
    assert.equal(out.length, 16000);
    assert.ok(Math.abs(toneLevelDb(out, 8000, 800) - toneLevelDb(src, 22050, 800)) < 0.5);
  });

  it('streaming in 20 ms frames gives the same samples as one pass (no clicks at frame edges)', () => {
    const src = tone(8000, 700, 1000, 0.5).samples;
    const whole = resample(src, 8000, 16000);
    const r = new StreamingResampler(8000, 16000);
    const parts: Int16Array[] = [];
    for (const frame of toFrames(src, 8000)) parts.push(r.push(frame));
    parts.push(r.flush());
    const streamed = Int16Array.from(parts.flatMap((p) => Array.from(p)));
    assert.deepEqual(streamed, whole);
  });

  it('rejects nonsense rates', () => {
    assert.throws(() => resample(new Int16Array(10), 0, 8000), /positive integer/);
  });
});

describe('framing', () => {
  it('cuts arbitrary chunks and split bytes into 20 ms frames', () => {
    const src = Int16Array.from({ length: 1000 }, (_, i) => i - 500);
    const bytes = pcm16ToBytes(src);
    const framer = new Framer(8000);
    const frames: Int16Array[] = [];
    // Odd-sized pieces split samples between messages.
    for (let i = 0; i < bytes.length; i += 77) frames.push(...framer.pushBytes(bytes.subarray(i, i + 77)));
    frames.push(...framer.flush());
    assert.equal(frames.length, Math.ceil(1000 / 160));
    assert.ok(frames.every((f) => f.length === 160));
    const joined = Int16Array.from(frames.flatMap((f) => Array.from(f)));
    assert.deepEqual(joined.subarray(0, 1000), src);
    assert.ok(
      joined.subarray(1000).every((v) => v === 0),
      'the last frame is padded with silence',
    );
  });
});

describe('WAV', () => {
  it('round-trips PCM16 mono', () => {
    const audio = tone(16000, 440, 250, 0.4);
    const back = readWav(encodeWav(audio));
    assert.equal(back.sampleRate, 16000);
    assert.deepEqual(back.samples, audio.samples);
  });

  it('reads a stereo recording interleaved, even one whose data chunk is still being written', () => {
    const stereo = new Int16Array([1, -1, 2, -2, 3, -3, 4, -4]);
    const wav = encodeWav({ samples: stereo, sampleRate: 8000 }, 2);
    assert.deepEqual(readWavInterleaved(wav), { sampleRate: 8000, channels: 2, samples: stereo });
    const cut = readWavInterleaved(wav.subarray(0, wav.length - 5));
    // 11 of 16 data bytes left: two whole stereo frames.
    assert.deepEqual(cut.samples, stereo.subarray(0, 4), 'only whole frames of a cut file');
    assert.throws(() => readWav(wav), /only mono/);
  });

  it('skips extra chunks and accepts the streaming size espeak-ng writes to a pipe', () => {
    const wav = encodeWav(tone(8000, 440, 100));
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0')]);
    const withList = Buffer.concat([wav.subarray(0, 36), list, wav.subarray(36)]);
    assert.equal(readWav(withList).samples.length, 800);
    const streaming = Buffer.from(wav);
    streaming.writeUInt32LE(0x7ffff000, 40);
    assert.equal(readWav(streaming).samples.length, 800);
  });

  it('rejects malformed and unsupported files with a clear error', () => {
    const good = encodeWav(tone(8000, 440, 100));
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /not a WAV file/],
      ['text', Buffer.from('hello, this is not audio at all'), /RIFF\/WAVE header is missing/],
      ['stereo', Buffer.from(good).fill(2, 22, 23), /2 channels/],
      ['8-bit', Buffer.from(good).fill(8, 34, 35), /8-bit/],
      ['float', Buffer.from(good).fill(3, 20, 21), /IEEE float/],
      ['truncated', good.subarray(0, 100), /truncated/],
      ['no data', good.subarray(0, 36), /no data chunk/],
    ];
    for (const [name, bytes, message] of cases) {
      assert.throws(
        () => readWav(bytes, `${name}.wav`),
        (err) =>
          isOtklikError(err, 'AUDIO_MALFORMED') && message.test(err.message) && err.message.startsWith(name),
        name,
      );
    }
  });
});
