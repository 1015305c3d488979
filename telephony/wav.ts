import { OtklikError } from '../core/errors.js';

/**
 * The little WAV handling telephony needs: writing prompts for FreeSWITCH to play and reading the header of
 * a session recording (duration for its metadata). PCM16 little-endian only, as FreeSWITCH writes it.
 */
export function encodeWav(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  durationMs: number;
}

/** Reads the format and length of a PCM WAV file, walking its chunks. */
export function readWavInfo(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new OtklikError('AUDIO_MALFORMED', 'not a WAV file');
  }
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 16;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(offset + 10);
      sampleRate = buf.readUInt32LE(offset + 12);
      bits = buf.readUInt16LE(offset + 22);
    } else if (id === 'data') {
      if (!sampleRate || !channels) break;
      // A recording still being written (or cut by a crash) may claim more data than the file holds.
      const bytes = Math.min(size, buf.length - offset - 8);
      return {
        sampleRate,
        channels,
        durationMs: Math.round((bytes / (channels * (bits / 8)) / sampleRate) * 1000),
      };
    }
    offset += 8 + size + (size % 2);
  }
  throw new OtklikError('AUDIO_MALFORMED', 'WAV file has no fmt/data chunk');
}
