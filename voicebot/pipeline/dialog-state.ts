import type { CallOutcome } from '../../calls/records.js';
import type { Classification, Entity } from '../../nlu/types.js';

/**
 * What a web chat's dialog knew when its current step began: saved after every turn, so that another node
 * can resume the conversation at that step (voicebot/channels/text/chat-router.ts). Plain JSON.
 */
export interface DialogState {
  classification: Classification | null;
  topicId: string | null;
  agencyId: string | null;
  noMatchCount: number;
  outcome: CallOutcome | null;
  queued: boolean;
  transferred: boolean;
  lastBotText: string;
  inputsHeard: number;
  questionTexts: Array<{ text: string; intent: string }>;
  escalating: boolean;
  escalationReason: string | null;
  leaving: boolean;
  operator: { id: string; name: string } | null;
  asked: Array<[string, number]>;
  lastTurn: Array<{ text: string; opts: SayOptions }>;
  turnOpen: boolean;
  intents: Array<{ intent: string; confidence: number; atMs: number; text: string }>;
  answers: Array<{ intent: string; answerVersion: string }>;
  entities: Entity[];
}

export interface SayOptions {
  answerVersion?: string;
  /**
   * The bot asks the caller to confirm this intent («Правильно ли я поняла…»): stored on the bot's turn, so
   * a «нет» after it marks the caller's words as misread (the knowledge studio's inbox, calls/inbox-rows.ts).
   */
  confirms?: string;
  /** Default true: the caller may cut the bot short. Emergency messages are not interruptible. */
  bargeIn?: boolean;
  /**
   * Default true: «повторите» says this again. Reprompts that only say the caller was not heard or
   * understood (no_input, no_match) are false, so a repeat gives the question or answer itself.
   */
  repeatable?: boolean;
}
