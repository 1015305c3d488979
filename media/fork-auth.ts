import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How the voice bot's media socket knows that an audio fork comes from our telephony (MEDIA_SOCKET_SECRET).
 * Telephony signs the metadata it gives `uuid_audio_fork … start` (FreeSWITCH sends it as the fork's first
 * text frame) with an HMAC-SHA256 over the whole metadata under the shared secret; the media socket checks
 * it in constant time and refuses the connection otherwise. The signature covers every field (call id,
 * caller, direction, flow id, inquiry id), so nobody without the secret can start a call or choose the flow
 * that runs, and a signed inbound call cannot be turned into an outbound one. Telephony names the flow: the
 * one it placed an outbound call for, or the one the KB lists for the number an inbound caller dialled
 * (kb/numbers.ts). A captured frame replayed later carries a call id the bot already has a record of, and
 * its session fails at the start.
 *
 * Both telephony and the voice bot import this file, like call-leg.ts: it is the contract between them.
 */

/** The metadata field that carries the signature (base64url). */
export const FORK_SIGNATURE_FIELD = 'signature';

/** Bumped if the signed form ever changes, so that old and new signatures never match each other. */
const CONTEXT = 'otklik-audio-fork-v1\n';

/** JSON with object keys sorted at every level: the same text for the same metadata on both sides. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function mac(metadata: Record<string, unknown>, secret: string): Buffer {
  return createHmac('sha256', secret)
    .update(CONTEXT + canonicalJson(metadata))
    .digest();
}

/** The metadata as sent (a JSON round trip, as the bot will read it) with its signature added. */
export function signForkMetadata(metadata: Record<string, unknown>, secret: string): Record<string, unknown> {
  const { [FORK_SIGNATURE_FIELD]: _ignored, ...plain } = JSON.parse(JSON.stringify(metadata)) as Record<
    string,
    unknown
  >;
  return { ...plain, [FORK_SIGNATURE_FIELD]: mac(plain, secret).toString('base64url') };
}

export type ForkVerdict =
  | { ok: true; metadata: Record<string, unknown> }
  | { ok: false; problem: 'unsigned' | 'bad_signature' };

/** Checks a fork's metadata frame (constant time); the metadata comes back without its signature. */
export function verifyForkMetadata(raw: Record<string, unknown>, secret: string): ForkVerdict {
  const { [FORK_SIGNATURE_FIELD]: given, ...metadata } = raw;
  if (typeof given !== 'string' || given === '') return { ok: false, problem: 'unsigned' };
  const expected = mac(metadata, secret);
  const actual = Buffer.from(given, 'base64url');
  // The length of an HMAC-SHA256 is public; only equal-length values are compared, in constant time.
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, problem: 'bad_signature' };
  }
  return { ok: true, metadata };
}

/** Whether the signed metadata says telephony placed this call (callbacks, relayed answers). */
export function isOutboundFork(metadata: Record<string, unknown>): boolean {
  return metadata.direction === 'outbound';
}
