/**
 * A text call leg: the web chat and the text simulator. The caller's side is driven through `callerSays`,
 * `callerPresses` and `callerHangsUp`; the bot's messages go to `onBotMessage` listeners, and those of an
 * operator who took the chat on the desk to `onOperatorMessage` listeners; both are kept in `messages`, in
 * order. A forward cannot connect a chat to a phone, so it shows the agency's number and succeeds.
 */
import type {
  CallLeg,
  CallLegEvent,
  CallMetadata,
  ForwardResult,
  LegEndReason,
  PlayOptions,
} from '../../../media/call-leg.js';

export interface BotMessage {
  text: string;
  at: Date;
  /** Said while an operator has the chat: only who joined and that they left, shown as a line, not a reply. */
  notice?: boolean;
}

/** A message the citizen sees: the bot's, or an operator's (with the name the citizen is shown). */
export type ChatMessage = (BotMessage & { who: 'bot' }) | (BotMessage & { who: 'operator'; name: string });

export class TextLeg implements CallLeg {
  readonly messages: ChatMessage[] = [];
  forwardedTo: string | null = null;
  /** An operator has taken the chat (the chat's sessions set it): the bot's messages from now on are notices. */
  withOperator = false;
  endReason: LegEndReason | null = null;
  private readonly listeners = new Set<(event: CallLegEvent) => void>();
  private readonly botListeners = new Set<(message: BotMessage) => void>();
  private readonly operatorListeners = new Set<(message: BotMessage & { name: string }) => void>();
  private readonly endListeners = new Set<(reason: LegEndReason) => void>();

  constructor(readonly meta: CallMetadata) {}

  get ended(): boolean {
    return this.endReason !== null;
  }

  on(listener: (event: CallLegEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onBotMessage(listener: (message: BotMessage) => void): () => void {
    this.botListeners.add(listener);
    return () => this.botListeners.delete(listener);
  }

  onOperatorMessage(listener: (message: BotMessage & { name: string }) => void): () => void {
    this.operatorListeners.add(listener);
    return () => this.operatorListeners.delete(listener);
  }

  onEnd(listener: (reason: LegEndReason) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  async playAudio(_samples: Int16Array, _sampleRate: number, _opts: PlayOptions): Promise<void> {}

  async sendText(text: string): Promise<void> {
    if (this.ended) return;
    const message = { text, at: new Date(), ...(this.withOperator ? { notice: true } : {}) };
    this.messages.push({ who: 'bot', ...message });
    for (const l of this.botListeners) l(message);
  }

  /** An operator's message to the citizen (the chat's sessions store it as the operator's turn first). */
  operatorSays(text: string, name: string): void {
    if (this.ended) return;
    const message = { text, name, at: new Date() };
    this.messages.push({ who: 'operator', ...message });
    for (const l of this.operatorListeners) l(message);
  }

  async stopAudio(): Promise<void> {}

  async forward(target: string): Promise<ForwardResult> {
    this.forwardedTo = target;
    await this.sendText(`Номер службы: ${target}`);
    return { status: 'answered' };
  }

  async hangup(reason: LegEndReason = 'bot_hangup'): Promise<void> {
    this.close(reason);
  }

  callerSays(text: string): void {
    if (!this.ended) this.emit({ type: 'text', text });
  }

  callerPresses(digits: string): void {
    for (const digit of digits) if (!this.ended) this.emit({ type: 'dtmf', digit });
  }

  callerHangsUp(): void {
    if (this.ended) return;
    this.emit({ type: 'hangup', reason: 'caller_hangup' });
    this.close('caller_hangup');
  }

  private close(reason: LegEndReason): void {
    if (this.ended) return;
    this.endReason = reason;
    for (const l of this.endListeners) l(reason);
  }

  private emit(event: CallLegEvent): void {
    for (const l of this.listeners) l(event);
  }
}
