/**
 * Domain types of the knowledge base and the read API that the dialog engine, NLU and telephony use.
 * kb/ implements `KnowledgeBase` over the store; other parts depend only on this file.
 */
/** A topic id: the editors' choice, `[a-z0-9_.]+` (kb/sample-intents.ts `kbIdPattern`). */
export type TopicId = string;
export type AnswerStatus = 'draft' | 'pending_approval' | 'approved' | 'retired';

export interface Agency {
  id: string;
  name: string;
  participantId: string | null;
  /** Number the call is forwarded to (sample data is marked as such). */
  forwardNumber: string | null;
  contactPerson: string | null;
  email: string | null;
  scheduleId: string;
}

export interface Topic {
  id: TopicId;
  title: string;
  agencyId: string | null;
  participantId: string | null;
}

/** How the bot handles an intent: answer it, hand it to an operator, or forward to the agency. */
export type IntentHandling = 'answer' | 'operator' | 'forward' | 'system';

/**
 * What the line does with a question once a version of its script is approved, as the agency approved it:
 * answer it, forward the caller to the agency, or register an inquiry (kb/answer-handling.ts).
 */
export type AnswerHandling = 'answer' | 'forward' | 'inquiry';

export interface Intent {
  id: string;
  topicId: TopicId;
  title: string;
  handling: IntentHandling;
  phrases: string[];
}

/** The version of an approved script that was served; recorded wherever an answer is given. */
export interface ServedAnswer {
  intentId: string;
  answerId: string;
  version: number;
  /** `${intentId}@v${version}`, the string recorded in call records and `answers[].answer_version`. */
  versionTag: string;
  speech: string;
  /** The web chat's text; null: the chat shows `speech`. */
  chat: string | null;
  /** The operator's card. */
  screen: string;
  handling: AnswerHandling;
  approvedBy: string;
  approvedAt: Date;
}

export type MenuAction =
  | { kind: 'topic'; topicId: TopicId }
  | { kind: 'queue'; queue: string }
  | { kind: 'forward'; agencyId: string }
  | { kind: 'message'; promptId: string }
  | { kind: 'submenu'; menuId: string };

export interface MenuItem {
  digit: string;
  label: string;
  /** Words a caller may say instead of pressing the digit. */
  keywords: string[];
  action: MenuAction;
}

export interface Menu {
  id: string;
  promptId: string;
  items: MenuItem[];
}

export interface Incident {
  id: string;
  level: 'federal' | 'regional';
  title: string;
  announcement: string;
  startsAt: Date;
  endsAt: Date | null;
  topicId: TopicId | null;
}

export interface OpenState {
  open: boolean;
  /** When the state changes next (opens if closed, closes if open); null for 24/7. */
  nextChange: Date | null;
}

/** How a prompt reaches the caller: read aloud (phone) or written (web chat). */
export type PromptForm = 'speech' | 'chat';

export interface KnowledgeBase {
  /** Version stamp of the KB content; changes on every edit (NLU retrains when it changes). */
  version(): Promise<string>;
  intents(): Promise<Intent[]>;
  intent(id: string): Promise<Intent | null>;
  topic(id: string): Promise<Topic | null>;
  agency(id: string): Promise<Agency | null>;
  /** The approved script for an intent, or null: nothing unapproved is ever served. */
  approvedAnswer(intentId: string): Promise<ServedAnswer | null>;
  /**
   * Prompt text by id (greeting, menu, no_match, goodbye, after_hours, ...): the spoken form, or for the text
   * chat (`form: 'chat'`) its written form where the prompt has one.
   */
  prompt(id: string, form?: PromptForm): Promise<string | null>;
  menu(id?: string): Promise<Menu | null>;
  activeIncidents(at: Date): Promise<Incident[]>;
  /** Whether an agency (by its schedule and the production calendar) is working at `at`. */
  agencyOpen(agencyId: string, at: Date): Promise<OpenState>;
  /** A call flow document (kb/flow-schema.ts, checked when it entered the KB), as written, by id, or null. */
  flow(id: string): Promise<unknown | null>;
  /**
   * The flow a call to `dialled` runs (kb/numbers.ts): the KB's entry for the number, compared by digits
   * (`sip:117@host`, `+7 800 200-01-22`), or null when the KB does not list it.
   */
  flowForNumber(dialled: string): Promise<string | null>;
  /** Vocabulary for ASR hints: clinic and district names, topic words. */
  vocabulary(): Promise<string[]>;
  /**
   * The region's IANA time zone (the KB's `timezone`): the line's one time zone, for hours, the calendar,
   * reports' days, mail dates and the dates a caller says. Read it when needed: an import may change it.
   */
  timezone(): Promise<string>;
}
