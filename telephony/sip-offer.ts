/**
 * What the SIP edge decides from an INVITE's (or re-INVITE's) body before anything reaches FreeSWITCH: a
 * caller's offer we cannot take is refused with the SIP answer that names the cause, never a generic 480.
 * - A body that is not SDP: 415 Unsupported Media Type with `Accept: application/sdp` (RFC 3261 21.4.13).
 * - An SDP too large to pass on: 488 with a Warning. drachtio-server 0.9.10 reads application messages into a
 *   12 228-byte buffer and never completes a larger one, which wedges the whole connection; fsmrf sends the
 *   caller's SDP to FreeSWITCH in such a message, so anything above MAX_SDP_BYTES (room left for the SIP
 *   headers) is refused here. 488 and not 413: the request is fine, its session description is what we
 *   cannot accept, and RFC 3261 21.4.26 has 488 with a Warning for exactly that.
 * - A malformed SDP, one without an audio stream, or one with no codec FreeSWITCH takes (G.729 only): 488
 *   Not Acceptable Here with the Warning code of the cause (399, 304, 305).
 */
export const MAX_SDP_BYTES = 8 * 1024;

/** The codecs the shipped FreeSWITCH profile takes (vars.xml global_codec_prefs), with their static types. */
export const ACCEPTED_CODECS: Readonly<Record<string, string>> = { PCMA: '8', PCMU: '0' };

export type OfferVerdict =
  | { ok: true; held: boolean }
  | { ok: false; status: 415 | 488; reason: string; headers: Record<string, string> };

const warning = (code: number, text: string) => ({ Warning: `${code} otklik "${text}"` });

function refuse(code: number, text: string): OfferVerdict {
  return { ok: false, status: 488, reason: 'Not Acceptable Here', headers: warning(code, text) };
}

/** Checks a caller's offer (the INVITE's Content-Type and body). */
export function checkOffer(contentType: string | undefined, body: string): OfferVerdict {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (body.length > 0 && type !== 'application/sdp') {
    return {
      ok: false,
      status: 415,
      reason: 'Unsupported Media Type',
      headers: { Accept: 'application/sdp' },
    };
  }
  // No body: a late offer (FreeSWITCH offers, the caller answers in the ACK), or a session refresh.
  if (body.trim() === '') return { ok: true, held: false };
  if (Buffer.byteLength(body) > MAX_SDP_BYTES)
    return refuse(399, `SDP too large (over ${MAX_SDP_BYTES} bytes)`);
  const lines = body.split(/\r?\n/).filter((l) => l !== '');
  if (lines[0] !== 'v=0' || !lines.every((l) => /^[a-z]=/.test(l)) || !lines.some((l) => l.startsWith('o=')))
    return refuse(399, 'Malformed SDP');
  const audio = lines.find((l) => /^m=audio \d+(\/\d+)? \S+ /.test(l));
  if (!audio) return refuse(304, 'No audio stream offered');
  const formats = audio.split(' ').slice(3);
  const named = new Map<string, string>();
  for (const l of lines) {
    const m = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(l);
    if (m) named.set(m[1]!, m[2]!.toUpperCase());
  }
  const takes = formats.some((pt) => {
    const name = named.get(pt);
    return name ? name in ACCEPTED_CODECS : Object.values(ACCEPTED_CODECS).includes(pt);
  });
  if (!takes)
    return refuse(305, `Incompatible media format: only ${Object.keys(ACCEPTED_CODECS).join(', ')}`);
  return { ok: true, held: isHold(body) };
}

/**
 * Whether an offer puts the call on hold: its audio direction is sendonly or inactive (RFC 3264 8.4), or the
 * old RFC 2543 way, a connection address of 0.0.0.0.
 */
export function isHold(sdp: string): boolean {
  const media = sdp.slice(Math.max(0, sdp.search(/^m=audio /m)));
  const dir =
    /^a=(sendonly|recvonly|inactive|sendrecv)\s*$/m.exec(media)?.[1] ??
    /^a=(sendonly|recvonly|inactive|sendrecv)\s*$/m.exec(sdp)?.[1] ??
    'sendrecv';
  return dir === 'sendonly' || dir === 'inactive' || /^c=IN IP4 0\.0\.0\.0\s*$/m.test(sdp);
}

/** The SIP answer for a refusal that came back from FreeSWITCH while creating the endpoint. */
export function refusalFromMediaServer(err: unknown): {
  status: number;
  reason: string;
  headers: Record<string, string>;
} {
  const status = (err as { status?: unknown }).status;
  if (status === 488 || status === 415)
    return { status: 488, reason: 'Not Acceptable Here', headers: warning(305, 'Incompatible media format') };
  return { status: 480, reason: 'Temporarily Unavailable', headers: {} };
}
