/**
 * The wire protocol of FreeSWITCH's mod_audio_fork (drachtio/jambonz flavour), as the media socket speaks it:
 * this is the bot's side of the protocol; telephony's side starts the fork and answers its requests.
 *
 * From FreeSWITCH to us:
 * - first a JSON text frame: whatever `uuid_audio_fork <uuid> start <url> mono 8k <metadata>` was given.
 *   We read callId (or callSid/uuid/callid), caller (from/caller/caller_id_number), called (to/called/
 *   destination_number) and sampleRate (sampleRate/rate/sampling_rate, 8000 or 16000; "8k"/"16k" too).
 * - then binary frames of L16 little-endian mono PCM, any size (an odd byte count is malformed).
 * - JSON text frames sent with `uuid_audio_fork <uuid> send_text <json>` for events. DTMF arrives as
 *   jambonz's listen verb sends it, `{"event":"dtmf","dtmf":"5","duration":"240"}`, or as
 *   `{"type":"dtmf","data":{"digit":"5"}}` / `{"event":"dtmf","digit":"5"}`.
 *   Our extensions: the telephony side answers a transfer request with
 *   `{"type":"transferResult","data":{"status":"answered|busy|no_answer|failed","reason":"..."}}`;
 *   a recognizer on the telephony side (or a benchmark without an ASR model) may send the caller's
 *   turn as text, `{"type":"transcript","data":{"text":"...","final":true}}`: a final one enters the
 *   dialog as the caller's utterance (partial ones are accepted and dropped); a text longer than the chat's
 *   limit (MAX_CALLER_TEXT_CHARS) is malformed.
 *
 * From us to FreeSWITCH (the module turns each into a `mod_audio_fork::*` event for the telephony app):
 * - `{"type":"playAudio","data":{"audioContentType":"raw","sampleRate":8000,"audioContent":"<base64 L16>"}}`
 * - `{"type":"killAudio"}` stops whatever is playing (barge-in).
 * - `{"type":"transfer","data":{"target":"<number or SIP URI>"}}` asks the telephony app to forward the
 *   caller (our extension of the module's free-form transfer event).
 * - `{"type":"disconnect"}` asks the telephony app to hang up the caller.
 */

import { MAX_CALLER_TEXT_CHARS } from '../limits.js';

export const AUDIO_FORK_SUBPROTOCOL = 'audio.drachtio.org';

export interface ForkMetadata {
  callId: string;
  caller: string;
  called: string;
  sampleRate: 8000 | 16000;
  /** Everything the metadata frame carried, for the call record. */
  raw: Record<string, unknown>;
}

export type TransferStatus = 'answered' | 'busy' | 'no_answer' | 'failed';

export type InboundEvent =
  | { kind: 'dtmf'; digit: string; durationMs?: number }
  | { kind: 'transferResult'; status: TransferStatus; reason?: string }
  | { kind: 'transcript'; text: string; final: boolean }
  | { kind: 'hangup' }
  /** Telephony's word that the caller holds the call (true) or is back (false): CallLeg's `hold` event. */
  | { kind: 'hold'; held: boolean };

export type Malformation =
  | 'bad_json'
  | 'odd_length'
  | 'binary_before_metadata'
  | 'unknown_type'
  | 'bad_metadata'
  | 'too_long';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: Malformation; detail: string };

const DTMF_KEYS = /^[0-9*#A-D]$/;

function firstString(obj: Record<string, unknown>, keys: string[]): string | undefined {
  for (const key of keys) {
    const v = obj[key];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function parseRate(value: unknown): 8000 | 16000 | undefined | 'bad' {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value).trim().toLowerCase();
  if (text === '8000' || text === '8k') return 8000;
  if (text === '16000' || text === '16k') return 16000;
  return 'bad';
}

function parseObject(text: string): ParseResult<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: 'bad_json', detail: (err as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'bad_json', detail: 'not a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Parses the first text frame. Missing ids get defaults; an unsupported sample rate is malformed. */
export function parseMetadata(text: string, fallbackCallId: string): ParseResult<ForkMetadata> {
  const parsed = parseObject(text);
  if (!parsed.ok) return parsed;
  const raw = parsed.value;
  const rate = parseRate(raw.sampleRate ?? raw.rate ?? raw.sampling_rate ?? raw.samplingRate);
  if (rate === 'bad') {
    return { ok: false, problem: 'bad_metadata', detail: 'sampleRate must be 8000 or 16000' };
  }
  return {
    ok: true,
    value: {
      callId:
        firstString(raw, ['callId', 'callSid', 'call_sid', 'uuid', 'callid', 'call_id']) ?? fallbackCallId,
      caller: firstString(raw, ['caller', 'from', 'caller_id_number', 'callerId']) ?? '',
      called: firstString(raw, ['called', 'to', 'destination_number', 'callee']) ?? '',
      sampleRate: rate ?? 8000,
      raw,
    },
  };
}

function parseDtmf(raw: Record<string, unknown>): InboundEvent | null {
  const data = typeof raw.data === 'object' && raw.data !== null ? (raw.data as Record<string, unknown>) : {};
  const nested =
    typeof raw.dtmf === 'object' && raw.dtmf !== null ? (raw.dtmf as Record<string, unknown>) : {};
  const digit =
    firstString(raw, ['digit']) ??
    (typeof raw.dtmf === 'string' ? raw.dtmf : undefined) ??
    firstString(data, ['digit', 'dtmf']) ??
    firstString(nested, ['digit']);
  if (digit === undefined || !DTMF_KEYS.test(digit)) return null;
  const duration = Number(raw.duration ?? data.duration ?? nested.duration);
  return Number.isFinite(duration) && duration > 0
    ? { kind: 'dtmf', digit, durationMs: duration }
    : { kind: 'dtmf', digit };
}

const TRANSFER_STATUSES: ReadonlySet<string> = new Set(['answered', 'busy', 'no_answer', 'failed']);

/** Parses an event text frame after the metadata. */
export function parseEvent(text: string): ParseResult<InboundEvent> {
  const parsed = parseObject(text);
  if (!parsed.ok) return parsed;
  const raw = parsed.value;
  const name = firstString(raw, ['event', 'type']);
  if (name === 'dtmf') {
    const event = parseDtmf(raw);
    return event
      ? { ok: true, value: event }
      : { ok: false, problem: 'unknown_type', detail: 'dtmf without a valid digit' };
  }
  if (name === 'transferResult') {
    const data =
      typeof raw.data === 'object' && raw.data !== null ? (raw.data as Record<string, unknown>) : {};
    const status = String(data.status ?? '');
    if (!TRANSFER_STATUSES.has(status)) {
      return { ok: false, problem: 'unknown_type', detail: `transferResult with status ${status}` };
    }
    const reason = typeof data.reason === 'string' ? data.reason : undefined;
    return {
      ok: true,
      value: { kind: 'transferResult', status: status as TransferStatus, ...(reason ? { reason } : {}) },
    };
  }
  if (name === 'transcript') {
    const data =
      typeof raw.data === 'object' && raw.data !== null ? (raw.data as Record<string, unknown>) : {};
    if (typeof data.text !== 'string' || data.text.trim() === '') {
      return { ok: false, problem: 'unknown_type', detail: 'transcript without text' };
    }
    const text = data.text.trim();
    // Held to the chat's limit: a turn the chat would refuse does not enter the dialog by voice either.
    if (text.length > MAX_CALLER_TEXT_CHARS) {
      return {
        ok: false,
        problem: 'too_long',
        detail: `transcript of ${text.length} characters; at most ${MAX_CALLER_TEXT_CHARS}`,
      };
    }
    return { ok: true, value: { kind: 'transcript', text, final: data.final !== false } };
  }
  if (name === 'hangup' || name === 'disconnect') return { ok: true, value: { kind: 'hangup' } };
  if (name === 'hold') {
    if (typeof raw.held !== 'boolean')
      return { ok: false, problem: 'unknown_type', detail: 'hold without held: true|false' };
    return { ok: true, value: { kind: 'hold', held: raw.held } };
  }
  return { ok: false, problem: 'unknown_type', detail: `unknown event ${name ?? '(none)'}` };
}

/** Decodes a binary frame as L16 little-endian samples (copied, so the socket buffer can be reused). */
export function decodeL16(data: Buffer): ParseResult<Int16Array> {
  if (data.length % 2 !== 0) return { ok: false, problem: 'odd_length', detail: `${data.length} bytes` };
  const samples = new Int16Array(data.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
  return { ok: true, value: samples };
}

export function encodeL16(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}

export function playAudioMessage(samples: Int16Array, sampleRate: number): string {
  return JSON.stringify({
    type: 'playAudio',
    data: { audioContentType: 'raw', sampleRate, audioContent: encodeL16(samples).toString('base64') },
  });
}

export const killAudioMessage = JSON.stringify({ type: 'killAudio' });
export const disconnectMessage = JSON.stringify({ type: 'disconnect' });

export function transferMessage(target: string): string {
  return JSON.stringify({ type: 'transfer', data: { target } });
}
