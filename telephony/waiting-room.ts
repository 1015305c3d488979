import type { QueuePosition } from '../media/handoff.js';
import { ordinal, spokenMinutes } from '../speech/tts/numbers.js';
import type { ActiveCall } from './active-call.js';
import type { CallControlOptions, CallHost } from './call-host.js';
import { type AnnouncementId, announcementTexts, speakToFile } from './prompts.js';

/**
 * A caller waiting for an operator without the voice bot on the call (it crashed, or was never reached):
 * the hold message at once, then at each hold interval (a dispatcher round past it, on call control's clock)
 * their position and expected wait («Вы третий в очереди. Примерное время ожидания — две минуты.»). From the
 * queue's wait norm on, a caller whose number is known is offered a callback that keeps their place (key 1).
 * Nobody is hung up on without a person or a registered callback: at the queue's overflow time the call goes
 * where the queue says (another queue; a callback for a known number; the bot's inquiry is not there, so a
 * callback too), and after the queue's announce-max announcements a callback is registered for a known number.
 * A caller with no number and no bot keeps waiting with the announcements: the call is open to any operator
 * past the norm, and nothing else can take it. With the bot on the call, the bot says all this itself
 * (voicebot/flow/steps-handoff.ts) and this room only applies the queue's overflow.
 */
export class WaitingRoom {
  constructor(private readonly h: CallHost) {}

  private get o(): CallControlOptions {
    return this.h.o;
  }

  /** The call starts waiting here (again, after a failed bridge: the announcements go on from where they were). */
  startWaiting(call: ActiveCall): void {
    if (call.waiting.lastAnnouncedAt !== null) return;
    call.waiting.lastAnnouncedAt = this.h.now().getTime();
    const file = this.o.prompts.queue_wait;
    if (file) void call.leg.playFile(file).catch(() => {});
  }

  /** The dispatcher round: overflow for the calls held here, then the announcements that are due. */
  async tick(): Promise<void> {
    await this.overflow();
    const now = this.h.now().getTime();
    const repeat = this.o.holdRepeatMs ?? 20_000;
    const due = [...this.h.calls.values()].filter(
      (c) =>
        this.waitsHere(c) && c.waiting.lastAnnouncedAt !== null && now - c.waiting.lastAnnouncedAt >= repeat,
    );
    await Promise.all(due.map((c) => this.announce(c)));
  }

  /** A key the caller pressed while waiting here; true when it was theirs to press (the callback offer). */
  onKey(call: ActiveCall, digit: string): boolean {
    if (digit !== '1' || !this.waitsHere(call) || !call.waiting.callbackOffered) return false;
    void this.callBack(call, 'caller').catch((err) =>
      this.o.log.error({ err, callId: call.leg.meta.callId }, 'callback request failed'),
    );
    return true;
  }

  private waitsHere(call: ActiveCall): boolean {
    return (
      !this.h.released && !call.leg.ended && call.phase === 'queued' && !call.botConnected && !call.bridging
    );
  }

  private async announce(call: ActiveCall): Promise<void> {
    const callId = call.leg.meta.callId;
    call.waiting.lastAnnouncedAt = this.h.now().getTime();
    let pos: QueuePosition | null;
    try {
      pos = await this.o.queue.position(callId, this.h.now());
    } catch (err) {
      this.o.log.error({ err, callId }, 'queue position unavailable; the hold message instead');
      pos = null;
    }
    if (pos && pos.state !== 'waiting') return;
    call.waiting.announcements += 1;
    const phone = callbackNumber(call.leg.meta.from);
    if (pos && phone && call.waiting.announcements > pos.announceMax) {
      // The announcements ran out without an operator: a callback keeps the caller's place.
      await this.callBack(call, 'queue');
      return;
    }
    const offer = !!pos && !!phone && pos.waitedMs >= pos.waitNormMs;
    const parts: string[] = [];
    if (pos) {
      parts.push(await this.text('queue_position', { position: ordinal(pos.position) }));
      if (pos.expectedWaitMs !== null)
        parts.push(await this.text('queue_expected_wait', { wait: spokenMinutes(pos.expectedWaitMs) }));
    }
    const spoken = parts.length > 0 ? await this.speak('queue_position', parts.join(' ')) : null;
    if (!this.waitsHere(call)) return;
    const files = [spoken ?? this.o.prompts.queue_wait];
    const offerFile = offer ? this.o.prompts.queue_callback_offer : undefined;
    if (offer && !offerFile) call.waiting.callbackOffered = true;
    if (offerFile) files.push(offerFile);
    this.play(call, files, offerFile);
  }

  /**
   * Plays without holding up the dispatcher round (an announcement lasts seconds; operators wait for none).
   * Key 1 counts from the moment the callback offer starts playing: a key pressed while the caller still hears
   * their place in the queue was not an answer to an offer they have not heard.
   */
  private play(call: ActiveCall, files: Array<string | undefined>, offerFile?: string): void {
    void (async () => {
      for (const file of files) {
        if (!file || !this.waitsHere(call)) continue;
        if (file === offerFile) call.waiting.callbackOffered = true;
        await call.leg.playFile(file);
      }
    })().catch((err) => this.o.log.warn({ err, callId: call.leg.meta.callId }, 'announcement not played'));
  }

  /** The caller is called back (key 1, or the wait ran out): registered first, then said, then hung up. */
  private async callBack(call: ActiveCall, source: 'caller' | 'queue'): Promise<boolean> {
    const { leg } = call;
    const phone = callbackNumber(leg.meta.from);
    if (!phone) return false;
    const registered = await this.o.queue.requestCallback(leg.meta.callId, {
      phone,
      at: this.h.now(),
      source,
    });
    if (!registered) return false;
    call.phase = 'ending';
    call.outcome = 'callback';
    // Said to its end, then the hang-up; the dispatcher round does not wait for it.
    void (async () => {
      await leg.stopAudio();
      const text = await this.text('queue_callback_registered', { number: spokenPhone(phone) });
      const file =
        (await this.speak('queue_callback_registered', text)) ?? this.o.prompts.queue_callback_done;
      if (file) await leg.playFile(file);
      await leg.hangup('bot_hangup');
    })().catch((err) => this.o.log.error({ err, callId: leg.meta.callId }, 'callback confirmation failed'));
    return true;
  }

  /**
   * The queue's overflow for the calls held here. With the bot on the call, the bot says what happens (it reads
   * the queue's state); without it the caller hears it here. What cannot be done (a callback without a number,
   * an inquiry without the bot) leaves the call waiting, the overflow marked done.
   */
  private async overflow(): Promise<void> {
    const held = [...this.h.calls.entries()]
      .filter(([, c]) => !c.leg.ended && !c.bridging && (c.phase === 'queued' || c.phase === 'bot'))
      .map(([id]) => id);
    const due = await this.o.queue.overflowDue(held, this.h.now());
    for (const d of due) {
      const call = this.h.calls.get(d.callId);
      if (!call) continue;
      const withBot = call.phase === 'bot' || call.botConnected;
      const phone = callbackNumber(call.leg.meta.from);
      const at = this.h.now();
      if (d.to.startsWith('queue:')) {
        const moved = await this.o.queue.overflowToQueue(d.callId, d.to.slice('queue:'.length), at);
        if (moved && !withBot) this.play(call, [this.o.prompts.queue_overflow_queue]);
        continue;
      }
      if (d.to === 'inquiry' && withBot) {
        await this.o.queue.toInquiry(d.callId, at);
        continue;
      }
      // A callback, or an inquiry the bot is not there to take: a callback for a known number.
      if (phone) {
        if (withBot) await this.o.queue.requestCallback(d.callId, { phone, at, source: 'queue' });
        else await this.callBack(call, 'queue');
        continue;
      }
      await this.o.queue.overflowToQueue(d.callId, null, at);
    }
  }

  /** A waiting-room text: the KB's prompt (the same id the bot says) with its placeholders filled. */
  private async text(id: AnnouncementId, vars: Record<string, string>): Promise<string> {
    const template = (await this.o.kb?.prompt(id).catch(() => null)) || announcementTexts[id];
    return template.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
  }

  /** Synthesized through the prompts' TTS; null without it (the caller hears the recorded hold message). */
  private async speak(name: string, text: string): Promise<string | null> {
    if (!this.o.tts) return null;
    try {
      return await speakToFile(this.o.promptsDir ?? this.o.audioDir, this.o.tts, name, text);
    } catch (err) {
      this.o.log.error({ err, prompt: name }, 'cannot synthesize a waiting-room announcement');
      return null;
    }
  }
}

/** The number a callback can reach, from the caller id: none for anonymous or withheld callers. */
export function callbackNumber(from: string | null | undefined): string | null {
  const raw = (from ?? '').replace(/^sips?:/, '').replace(/@.*$/, '');
  const digits = raw.replace(/\D/g, '');
  if (!/^\+?[\d\s()-]+$/.test(raw) || digits.length < 5) return null;
  if (digits.length === 11 && (digits.startsWith('8') || digits.startsWith('7')))
    return `+7${digits.slice(1)}`;
  if (digits.length === 10 && digits.startsWith('9')) return `+7${digits}`;
  return raw.startsWith('+') ? `+${digits}` : digits;
}

/** A number as it is read out: «+7 900 555-44-33» (the TTS says the groups as numbers). */
export function spokenPhone(phone: string): string {
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(phone);
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : phone;
}
