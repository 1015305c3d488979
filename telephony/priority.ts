import type { QueuedCall } from '../media/handoff.js';

/**
 * Caller priority in the operator queue (higher is served first; equal priorities by their wait): a call
 * handed on for an emergency-adjacent reason (the bot heard danger, the caller declined 112 or the transfer
 * failed) first, then the configured VIP numbers (QUEUE_VIP_NUMBERS / telephony.vipNumbers), then callbacks
 * the line placed that come back to the queue (context.reason 'callback'), then everyone else.
 * Priority never passes a caller over a call being offered; it orders who is offered next.
 */
export const PRIORITY = { emergency: 30, vip: 20, callback: 10, normal: 0 } as const;

/** The last ten digits: +7 900 555-44-33, 8 (900) 555-44-33 and 9005554433 are one number. */
function numberKey(n: string | null | undefined): string | null {
  const digits = (n ?? '').replace(/\D/g, '');
  return digits.length >= 5 ? digits.slice(-10) : null;
}

export function callerPriority(opts: {
  vipNumbers: readonly string[];
}): (call: Pick<QueuedCall, 'context'>) => number {
  const vip = new Set(opts.vipNumbers.map(numberKey).filter((k): k is string => k !== null));
  return (call) => {
    const { reason, callerNumber } = call.context;
    if (reason === 'emergency') return PRIORITY.emergency;
    const key = numberKey(callerNumber);
    if (key && vip.has(key)) return PRIORITY.vip;
    if (reason === 'callback') return PRIORITY.callback;
    return PRIORITY.normal;
  };
}
