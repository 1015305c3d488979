import { readFile, writeFile } from 'node:fs/promises';
import { OtklikError } from '../../core/errors.js';
import type { PcmAudio } from './pcm.js';
import { pcm16FromBytes, pcm16ToBytes } from './pcm.js';

/**
 * RIFF/WAVE files holding PCM16: mono for speech (readWav), any channel count for call recordings
 * (readWavInfo, encodeWav with channels). Anything else (8/24/32-bit, float, compressed) is rejected with an AUDIO_MALFORMED error that names what was found, so
 * that a bad upload fails loudly instead of playing noise to a caller.
 *
 * Own code rather than the wavefile package, on purpose: two kinds of WAV this project reads every day are not
 * well-formed RIFF. espeak-ng streaming to a pipe writes a placeholder size (0x7fffffff), and a FreeSWITCH
 * recording cut by a crash or still being written has a data chunk longer than the file. wavefile rejects or
 * misreads both; this reader accepts exactly those two cases, and nothing else that is malformed.
 */

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Programs that stream WAV to a pipe (espeak-ng --stdout) cannot know the length and write a huge size. */
const STREAMING_SIZE_THRESHOLD = 0x7fff0000;

function malformed(message: string, source?: string): OtklikError {
  return new OtklikError('AUDIO_MALFORMED', `${source ? `${source}: ` : ''}${message}`, {
    details: source ? { source } : undefined,
  });
}

interface WavFormat {
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

/**
 * Walks the RIFF chunks to the fmt and data chunks. `truncatedOk` accepts a data chunk that claims more bytes
 * than the file holds (a recording still being written, or cut by a crash); otherwise only pipes' huge
 * placeholder sizes are accepted.
 */
function parseWav(
  input: Uint8Array,
  source: string | undefined,
  truncatedOk: boolean,
): { format: WavFormat; data: Buffer } {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length < 12) throw malformed(`not a WAV file: only ${buf.length} bytes`, source);
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw malformed('not a WAV file: the RIFF/WAVE header is missing', source);
  }
  let offset = 12;
  let format: WavFormat | null = null;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw malformed('WAV fmt chunk is truncated', source);
      let audioFormat = buf.readUInt16LE(body);
      if (audioFormat === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= buf.length) {
        audioFormat = buf.readUInt16LE(body + 24);
      }
      format = {
        audioFormat,
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
      checkFormat(format, source);
    } else if (id === 'data') {
      if (!format) throw malformed('WAV data chunk comes before the fmt chunk', source);
      let end = body + size;
      if (end > buf.length) {
        if (size < STREAMING_SIZE_THRESHOLD && !truncatedOk) {
          throw malformed(
            `WAV data is truncated: header says ${size} bytes, file has ${buf.length - body}`,
            source,
          );
        }
        end = buf.length;
      }
      const frameBytes = 2 * format.channels;
      return { format, data: buf.subarray(body, end - ((end - body) % frameBytes)) };
    }
    // Chunks are word-aligned: an odd-sized chunk is followed by one padding byte.
    offset = body + size + (size % 2);
  }
  throw malformed(format ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk', source);
}

/** Parses a PCM16 mono WAV file's bytes. `source` (a file name) only makes error messages clearer. */
export function readWav(input: Uint8Array, source?: string): PcmAudio {
  const { format, data } = parseWav(input, source, false);
  if (format.channels !== 1)
    throw malformed(`unsupported WAV with ${format.channels} channels: only mono is supported`, source);
  return { sampleRate: format.sampleRate, samples: pcm16FromBytes(data) };
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  durationMs: number;
}

/** Format and length of a PCM16 WAV with any number of channels, e.g. a stereo call recording. */
export function readWavInfo(input: Uint8Array, source?: string): WavInfo {
  const { format, data } = parseWav(input, source, true);
  const frames = data.length / (2 * format.channels);
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    durationMs: Math.round((frames / format.sampleRate) * 1000),
  };
}

/**
 * The samples of a PCM16 WAV with any channel count, interleaved (a stereo call recording: caller, other
 * side). A data chunk cut short, as in a recording still being written, is read as far as it goes.
 */
export function readWavInterleaved(
  input: Uint8Array,
  source?: string,
): { sampleRate: number; channels: number; samples: Int16Array } {
  const { format, data } = parseWav(input, source, true);
  return { sampleRate: format.sampleRate, channels: format.channels, samples: pcm16FromBytes(data) };
}

function checkFormat(f: WavFormat, source?: string): void {
  if (f.audioFormat !== WAVE_FORMAT_PCM) {
    const names: Record<number, string> = {
      3: 'IEEE float',
      6: 'A-law',
      7: 'μ-law',
      85: 'MP3',
      17: 'IMA ADPCM',
    };
    const name = names[f.audioFormat] ?? `format code ${f.audioFormat}`;
    throw malformed(`unsupported WAV encoding ${name}: only PCM16 is supported`, source);
  }
  if (f.channels < 1 || f.channels > 8)
    throw malformed(`implausible WAV channel count ${f.channels}`, source);
  if (f.bitsPerSample !== 16) {
    throw malformed(
      `unsupported WAV with ${f.bitsPerSample}-bit samples: only 16-bit PCM is supported`,
      source,
    );
  }
  if (f.sampleRate < 1000 || f.sampleRate > 192000)
    throw malformed(`implausible WAV sample rate ${f.sampleRate}`, source);
}

/** PCM16 → a canonical 44-byte-header WAV file; with `channels` > 1 the samples are interleaved. */
export function encodeWav(audio: PcmAudio, channels = 1): Buffer {
  if (!Number.isInteger(audio.sampleRate) || audio.sampleRate <= 0) {
    throw new OtklikError('VALIDATION_FAILED', `encodeWav: invalid sample rate ${audio.sampleRate}`);
  }
  const data = pcm16ToBytes(audio.samples);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(audio.sampleRate, 24);
  header.writeUInt32LE(audio.sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export async function readWavFile(path: string): Promise<PcmAudio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new OtklikError('NOT_FOUND', `${path}: cannot read the file: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return readWav(bytes, path);
}

export async function writeWav(path: string, audio: PcmAudio): Promise<void> {
  await writeFile(path, encodeWav(audio));
}
