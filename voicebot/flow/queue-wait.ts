import type { StepOf } from '../../kb/flow-schema.js';
import type { QueuePosition } from '../../media/handoff.js';
import { ordinal, spokenMinutes } from '../../speech/tts/numbers.js';
import { formatPhone, normalizePhone } from './phone.js';
import { follow, type StepEnv } from './runner.js';

/**
 * The caller waits for an operator with the bot on the call (the enqueue step, after «переведу на
 * оператора»): at each hold interval they hear their place and expected wait from the queue
 * («Вы третий в очереди. Примерное время ожидания — две минуты.»); from the queue's wait norm on, a caller
 * whose number is known is offered a callback that keeps their place (key 1), confirmed before the call ends.
 * The wait never runs on without end: after the queue's announce-max announcements a callback is registered
 * for a known number, else the step's «another way» branch (an inquiry) takes the caller; the queue's own
 * overflow (telephony applies it) is followed the same way: another queue is said and the wait goes on, a
 * registered callback is confirmed, an inquiry is offered. Telephony bridges the call to the operator
 * whenever one takes it (hear() then ends with CallEnded as the fork stops).
 * A hand-off without positions (an older one, a test's) keeps the old hold messages.
 */
export const ANNOUNCE_INTERVAL_MS = 20_000;

export async function waitForOperator(env: StepEnv, step?: StepOf<'enqueue'>): Promise<string | null> {
  const { dialog, handOff, log } = env;
  const callId = dialog.deps.callId;
  const phone = env.channel === 'text' ? null : normalizePhone(dialog.deps.meta.from ?? '');
  // Without a step (the session's technical fallback) there is no other way to follow: the wait goes on.
  const another = () =>
    step ? follow(step, step.on.overflow ? 'overflow' : step.on.unserved ? 'unserved' : 'closed') : null;
  let announcements = 0;
  let offered = false;
  let lastAt = dialog.deps.wallClock().getTime();
  let queueId: string | null = null;

  const callBack = async (source: 'caller' | 'queue'): Promise<boolean> => {
    if (!phone || !handOff?.requestCallback) return false;
    const ok = await handOff
      .requestCallback(callId, { phone, at: dialog.deps.wallClock(), source })
      .catch((err) => {
        log.error({ err, callId }, 'cannot register the callback');
        return false;
      });
    if (ok) await confirmCallback();
    return ok;
  };
  const confirmCallback = () =>
    dialog.sayPrompt('queue_callback_registered', { number: formatPhone(phone ?? '') }, { bargeIn: false });

  for (;;) {
    // An operator who takes the chat on the desk ends the wait at once (a phone call ends with the bridge).
    const heard = await dialog.hearUntil(() => dialog.operator !== null);
    if (!heard) return operatorConversation(env);
    if (offered && heard.kind === 'dtmf' && heard.digit === '1' && (await callBack('caller'))) return null;
    if (!handOff?.position) {
      await dialog.sayPrompt(heard.kind === 'silence' ? 'operators_busy' : 'queue_wait');
      continue;
    }
    const pos: QueuePosition | null = await handOff.position(callId, dialog.deps.wallClock()).catch((err) => {
      log.error({ err, callId }, 'queue position unavailable');
      return null;
    });
    if (pos?.state === 'callback') {
      // Telephony's overflow registered it for the caller's number.
      if (phone) await confirmCallback();
      return null;
    }
    if (pos?.state === 'inquiry') return another();
    if (pos && pos.state !== 'waiting') continue; // an operator took it: the bridge is on its way
    const now = dialog.deps.wallClock().getTime();
    if (pos && queueId !== null && pos.queueId !== queueId) await dialog.sayPrompt('queue_overflow_queue');
    if (pos) queueId = pos.queueId;
    if (now - lastAt < ANNOUNCE_INTERVAL_MS) {
      // The caller said something: they are still waiting, and hear that they are.
      if (heard.kind === 'speech') await dialog.sayPrompt('queue_wait');
      continue;
    }
    lastAt = now;
    if (!pos) {
      await dialog.sayPrompt('queue_wait');
      continue;
    }
    announcements += 1;
    if (announcements > pos.announceMax) {
      if (await callBack('queue')) return null;
      if (await handOff.toInquiry?.(callId, dialog.deps.wallClock()).catch(() => false)) return another();
    }
    await dialog.sayPrompt('queue_position', { position: ordinal(pos.position) });
    if (pos.expectedWaitMs !== null)
      await dialog.sayPrompt('queue_expected_wait', { wait: spokenMinutes(pos.expectedWaitMs) });
    if (phone && pos.waitedMs >= pos.waitNormMs) {
      offered = true;
      await dialog.sayPrompt('queue_callback_offer');
    }
  }
}

/**
 * A chat an operator took: the bot falls silent but for who joined and, when the operator closes, their
 * goodbye; then the chat ends. The citizen's messages are stored as their turns as they arrive (the dialog
 * records every input); the operator's come through the chat's sessions (ChatSessions.operatorSays). A
 * citizen who leaves ends the call with CallEnded, as anywhere.
 */
async function operatorConversation(env: StepEnv): Promise<null> {
  const { dialog } = env;
  // An emergency put through to an operator is still reported as an emergency.
  if (dialog.outcome !== 'emergency') dialog.outcome = 'operator';
  let current = dialog.operator;
  await dialog.sayPrompt('operator_joined', { name: current?.name ?? '' });
  for (;;) {
    // Nothing for the bot to say to the citizen's messages: the operator answers on the desk.
    if (await dialog.hearUntil(() => dialog.operatorClosed || dialog.operator !== current)) continue;
    if (dialog.operatorClosed) break;
    // Another operator took the chat over (a transfer on the desk): the citizen is told who it is now.
    current = dialog.operator;
    await dialog.sayPrompt('operator_joined', { name: current?.name ?? '' });
  }
  await dialog.sayPrompt('operator_closed', {}, { bargeIn: false });
  return null;
}
