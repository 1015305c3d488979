import type { Logger } from '../core/log.js';
import type { KnowledgeBase } from '../kb/types.js';
import type { TtsEngine } from '../speech/types.js';
import type { Sql } from '../store/sql.js';
import type { ActiveCall } from './active-call.js';
import type { FreeswitchControl } from './fsmrf.js';
import type { PromptFiles } from './prompts.js';
import type { OperatorQueue } from './queue.js';

/**
 * What call control is built from (CallControlOptions), and what its parts share (CallHost): the calls this
 * instance holds and the few acts every part may do on them. A file of its own so that the answering side
 * (call-control.ts) and the queue side (operator-bridge.ts) both read it without importing each other.
 */
export interface CallControlOptions {
  sql: Sql;
  /**
   * This instance (OTKLIK_INSTANCE_ID), written on the record of every call it holds: the call lives as long as
   * its SIP leg here, so only this instance's restart marks it interrupted, wherever the voice bot runs.
   */
  instanceId: string;
  control: FreeswitchControl;
  queue: OperatorQueue;
  log: Logger;
  recordingsDir: string;
  /** Where audio played through CallLeg.playAudio is written (FreeSWITCH reads it from the same path). */
  audioDir: string;
  /** ws:// (or wss://) URL of the voice bot's media socket; without it every call goes to the operator queue. */
  mediaSocketUrl?: string | undefined;
  /**
   * MEDIA_SOCKET_SECRET (or the per-process key of `otklik serve`): the fork's metadata is signed with it, so
   * the voice bot knows the call is ours and that an outbound call's flow id was set by us.
   */
  mediaSocketSecret: string | undefined;
  /** Dial-string prefix of the carrier trunk in FreeSWITCH (sofia/gateway/<name>). */
  trunk?: string | undefined;
  /** How long an agency's or operator's phone rings. */
  forwardTimeoutMs: number;
  /** How often a caller waiting without the bot hears their position (the queues hold the rest: announce max, overflow). */
  holdRepeatMs?: number;
  prompts: PromptFiles;
  /**
   * The prompts' TTS, for what a waiting caller hears said anew (position, expected wait, the number called
   * back); without it the caller hears the recorded hold message instead.
   */
  tts?: TtsEngine | null;
  /** Where those announcements are written (kept by text: the same sentence is synthesized once). */
  promptsDir?: string;
  kb?: KnowledgeBase | null;
  /**
   * A SIP URI that takes any call (OPERATOR_URI): where a caller goes straight away when the store, and with
   * it the operator queue, is down.
   */
  fallbackOperatorUri?: string | undefined;
  /**
   * Places a callback the queue gave an operator (telephony/callback-call.ts): their phone, then the citizen;
   * `accepted` when the operator took it on the desk already. Without it no callback is placed.
   */
  placeCallback?: (
    a: { callId: string; operator: { id: string; sipUri: string | null }; context: Record<string, unknown> },
    opts?: { accepted?: boolean },
  ) => Promise<void>;
  now?: () => Date;
}

/** What the queue side of call control reads and calls of the instance that holds the calls. */
export interface CallHost {
  readonly o: CallControlOptions;
  readonly calls: Map<string, ActiveCall>;
  readonly released: boolean;
  /** False while draining: this instance hands calls over instead of taking operators for them. */
  readonly accepting: boolean;
  now(): Date;
  tick(): Promise<void>;
  record(callId: string, what: string, write: () => Promise<unknown>): Promise<void>;
  finish(call: ActiveCall, reason: string): Promise<void>;
  /**
   * Whether the caller's channel is to stay up when a bridge to an operator or agency ends (the call's flow has
   * a survey step with afterOperator): then telephony plays the survey when the other side hangs up first.
   */
  keepsCallerForSurvey(call: ActiveCall): Promise<boolean>;
}
