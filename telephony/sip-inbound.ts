import { randomUUID } from 'node:crypto';
import type Srf from 'drachtio-srf';
import { isOtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { CallControl } from './call-control.js';
import {
  type FreeswitchControl,
  fsCommands,
  MEDIA_HOLD_TIMEOUT_MS,
  MEDIA_TIMEOUT_MS,
  type MediaEndpoint,
  type MediaServer,
} from './fsmrf.js';
import { checkOffer, refusalFromMediaServer } from './sip-offer.js';

/**
 * One caller's INVITE from the offer to the hang-up, on the SIP side (app.ts admits it first):
 * - the offer is checked before anything reaches drachtio-server's link to FreeSWITCH (sip-offer.ts);
 * - the endpoint is created and the caller answered with its SDP. Every path that fails once the endpoint
 *   exists releases it (a CANCEL while FreeSWITCH answers, a failed 200 OK, a call control that throws): fsmrf's
 *   connectCaller leaves it up until MEDIA_TIMEOUT, so this does the two steps itself;
 * - the caller's BYE kills the channel at once (uuid_kill on the event socket), never fsmrf's `hangup` app,
 *   which would wait behind every playback queued on the channel;
 * - a re-INVITE (hold, unhold, a new media address) goes to the endpoint (fsmrf Endpoint.modify, a re-INVITE to
 *   FreeSWITCH) and is answered with FreeSWITCH's answer; the leg is told whether the caller holds.
 */
export interface InboundContext {
  srf: Srf;
  ms: MediaServer;
  control: FreeswitchControl;
  calls: CallControl;
  log: Logger;
  now: () => Date;
}

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Dialog = Srf.Dialog;

/** Dialog#destroy returns a promise without a callback (its typings say void). */
const endDialog = (dialog: Dialog): Promise<void> =>
  Promise.resolve(dialog.destroy() as unknown as Promise<void>).catch(() => {});

/** Kills the channel at once; fsmrf's destroy (the queued `hangup` app) only when the event socket is gone. */
export async function releaseEndpoint(
  ctx: Pick<InboundContext, 'control' | 'log'>,
  endpoint: MediaEndpoint,
): Promise<void> {
  try {
    await ctx.control.api(fsCommands.kill(endpoint.uuid));
  } catch (err) {
    if (isOtklikError(err, 'ENGINE_FAILED')) return; // the channel is gone already
    await endpoint.destroy().catch((e) => ctx.log.warn({ err: e }, 'endpoint release failed'));
  }
}

export async function answerInvite(ctx: InboundContext, req: Req, res: Res): Promise<void> {
  const callId = randomUUID();
  const log = ctx.log.child({ callId });
  const body = req.body ?? '';
  const offer = checkOffer(req.has('Content-Type') ? req.get('Content-Type') : undefined, body);
  if (!offer.ok) {
    log.info({ status: offer.status, why: Object.values(offer.headers)[0] }, 'offer refused');
    res.send(offer.status, offer.reason, { headers: offer.headers });
    return;
  }
  let cancelled = false;
  req.on('cancel', () => {
    cancelled = true;
  });
  let endpoint: MediaEndpoint;
  try {
    endpoint = await ctx.ms.createEndpoint({ remoteSdp: body });
  } catch (err) {
    const answer = refusalFromMediaServer(err);
    log.warn({ err, status: answer.status }, 'FreeSWITCH gave the caller no endpoint');
    if (!cancelled && !res.finalResponseSent)
      res.send(answer.status, answer.reason, { headers: answer.headers });
    return;
  }
  if (cancelled) {
    log.info('caller cancelled before the answer');
    await releaseEndpoint(ctx, endpoint);
    return;
  }
  let dialog: Dialog;
  try {
    dialog = await ctx.srf.createUAS(req, res, { localSdp: endpoint.local.sdp ?? '' });
  } catch (err) {
    await releaseEndpoint(ctx, endpoint);
    if (cancelled || (err as { status?: number }).status === 487)
      log.info('caller cancelled before the answer');
    else log.warn({ err }, 'cannot answer the call');
    if (!res.finalResponseSent && !cancelled) res.send(480, 'Temporarily Unavailable', {});
    return;
  }
  await runCall(ctx, { req, dialog, endpoint, callId, log });
}

async function runCall(
  ctx: InboundContext,
  c: { req: Req; dialog: Dialog; endpoint: MediaEndpoint; callId: string; log: Logger },
): Promise<void> {
  const { req, dialog, endpoint, log } = c;
  const meta = {
    callId: c.callId,
    from: req.callingNumber,
    to: req.calledNumber,
    startedAt: ctx.now(),
    channel: 'sip' as const,
    extra: {
      sipCallId: req.get('Call-ID'),
      diversion: req.has('Diversion') ? req.get('Diversion') : undefined,
    },
  };
  log.info({ pii: { caller: meta.from }, to: meta.to }, 'call answered');
  let dialogGone = false;
  // The caller hung up (BYE): FreeSWITCH's channel goes at once; its hang-up event ends the call's leg.
  dialog.on('destroy', () => {
    dialogGone = true;
    void releaseEndpoint(ctx, endpoint);
  });
  let leg: Awaited<ReturnType<CallControl['handleInbound']>> | null = null;
  // Listening from the answer on: a re-INVITE before call control is up is passed on too (and remembered).
  let heldBeforeLeg: boolean | null = null;
  dialog.on('modify', (r: Req, s: Res) => {
    void reinvite(ctx, endpoint, r, s, log).then((held) => {
      if (held === null) return;
      if (leg) leg.setHeld(held);
      else heldBeforeLeg = held;
    });
  });
  try {
    leg = await ctx.calls.handleInbound(endpoint.uuid, meta, async () => {
      if (!dialogGone) {
        dialogGone = true;
        await endDialog(dialog);
      }
    });
  } catch (err) {
    log.error({ err }, 'call control failed on an answered call: hanging up');
    await releaseEndpoint(ctx, endpoint);
    if (!dialogGone) await endDialog(dialog);
    return;
  }
  const callLeg = leg;
  if (heldBeforeLeg !== null) callLeg.setHeld(heldBeforeLeg);
  // The channel ended on FreeSWITCH's side (operator or agency hung up, bot hang-up): end the caller's dialog.
  callLeg.on((e) => {
    if (e.type === 'hangup' && !dialogGone) {
      dialogGone = true;
      void endDialog(dialog);
    }
  });
}

/**
 * Passes a re-INVITE to FreeSWITCH and answers with its answer; resolves whether the caller now holds. Before a
 * hold reaches FreeSWITCH, the channel's media_timeout becomes the hold's (FreeSWITCH reads it again with every
 * offer): a phone that sends nothing while it holds is not hung up after 5 minutes, a dead one after the unhold
 * still is.
 */
async function reinvite(
  ctx: Pick<InboundContext, 'control'>,
  endpoint: MediaEndpoint,
  req: Req,
  res: Res,
  log: Logger,
): Promise<boolean | null> {
  const offer = checkOffer(
    req.has('Content-Type') ? req.get('Content-Type') : 'application/sdp',
    req.body ?? '',
  );
  if (!offer.ok) {
    res.send(offer.status, offer.reason, { headers: offer.headers });
    return null;
  }
  if (!req.body?.trim()) {
    // A refresh without an offer: our current answer stands.
    res.send(200, { body: endpoint.local.sdp, headers: { 'Content-Type': 'application/sdp' } });
    return null;
  }
  const timeoutMs = offer.held ? MEDIA_HOLD_TIMEOUT_MS : MEDIA_TIMEOUT_MS;
  await ctx.control
    .api(fsCommands.setVar(endpoint.uuid, 'media_timeout', String(timeoutMs)))
    .catch((err) => log.warn({ err }, 'media_timeout not set for the re-INVITE'));
  try {
    const answer = await endpoint.modify(req.body);
    const sdp = typeof answer === 'string' && answer ? answer : endpoint.local.sdp;
    res.send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } });
    return offer.held;
  } catch (err) {
    const status = (err as { status?: number }).status;
    log.warn({ err, status }, 're-INVITE refused by FreeSWITCH');
    res.send(status && status >= 400 ? status : 488, { headers: {} });
    return null;
  }
}
