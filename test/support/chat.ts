import { type AdminArea, adminArea } from '../../admin/server.js';
import { silentLogger } from '../../core/log.js';
import { OperatorQueue } from '../../telephony/queue.js';
import type { ChatDeps } from '../../voicebot/channels/text/chat-sessions.js';
import textChatPlugin, { type TextChatOptions } from '../../voicebot/channels/text/plugin.js';

/** A Tuesday at 11:00 Moscow time: the operators of the sample KB are at work. */
export const OFFICE_HOURS = '2026-11-24T11:00:00+03:00';

/**
 * A clock that starts at `start` and runs at real pace from there: chats wait on real timers, but what depends
 * on the time of day (operators' hours, deadlines) sees the time the test chose, never the wall clock's.
 */
export function clockFrom(start: string = OFFICE_HOURS): () => Date {
  const origin = Date.now();
  const at = Date.parse(start);
  return () => new Date(at + (Date.now() - origin));
}

/**
 * The citizens' chat plugin's options as `otklik serve` gives them, with a test line's settings: the operator
 * queue (norm 60 s) as the hand-off, which tells a chat it is unserved, and the office-hours clock, unless the
 * test gives its own.
 */
export function testChatOptions(
  deps: Pick<ChatDeps, 'kb' | 'nlu' | 'sql'> & Partial<ChatDeps>,
): TextChatOptions {
  return {
    deps: {
      log: silentLogger,
      handOff: new OperatorQueue(deps.sql, { waitNormMs: 60_000 }),
      now: clockFrom(),
      ...deps,
    },
  };
}

/** The citizens' chat as an area of the admin app, as `otklik serve` registers it (testChatOptions). */
export function testChatPlugin(deps: Pick<ChatDeps, 'kb' | 'nlu' | 'sql'> & Partial<ChatDeps>): AdminArea {
  return adminArea(textChatPlugin, testChatOptions(deps));
}
