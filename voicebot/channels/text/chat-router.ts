/**
 * Web chats over several nodes, so that a load balancer needs no sticky sessions. Each chat's live session
 * (a flow runner awaiting the citizen's next message) runs on one node, its owner, which holds a lease in
 * Redis (chat-bus.ts). A message, a key or an operator's act reaching another node is passed to the owner
 * over Redis and its answer returned. When the owner is gone (killed: nobody listens on its channel, or its
 * lease lapsed; drained: it dropped the lease), the node that gets the next message takes the chat over: it
 * claims the lease and the call record (calls/records.ts claimChatCall) and resumes the session at the
 * checkpoint the owner saved after its last turn: no greeting again, the new message answered at the step
 * it was written for, the turns going on in order. What the citizen sees is also published as it happens,
 * so a WebSocket attached on any node follows the chat. A drain hands everything on: new chats and chats
 * without an owner go to another node, and this node's chats are released.
 *
 * Without Redis (not reachable at start), everything stays in this process's memory, as one node works.
 */
import { claimChatCall, getTurns } from '../../../calls/records.js';
import { isOtklikError, OtklikError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import type { Sql } from '../../../store/sql.js';
import type { ChatCheckpoint } from '../../session.js';
import { ChatBus, type ChatRequest, OwnerGone } from './chat-bus.js';
import type { ChatOperator, ChatSessions, ChatTurn } from './chat-sessions.js';
import type { TextLeg } from './text-leg.js';

/** What a citizen's WebSocket is sent as it happens (plugin.ts). */
export type ChatEvent =
  | { type: 'bot'; text: string; at: string; notice?: true }
  | { type: 'operator'; text: string; at: string; name: string }
  | { type: 'ended'; outcome: string | null };

export interface ChatRouterOptions {
  sessions: ChatSessions;
  sql: Sql;
  log: Logger;
  instanceId: string;
  /** Unset: no Redis, the chats stay in this process. */
  redis?: {
    url: string;
    prefix: string;
    leaseMs: number;
    forwardTimeoutMs: number;
    /** How long a chat's checkpoint is kept: the chats' idle timeout. */
    stateTtlMs: number;
  };
}

/** What a node keeps in Redis for the next owner of a chat. */
interface SavedChat {
  caller: string;
  checkpoint: ChatCheckpoint;
}

/** A request passed on at most this many times (a lease that moved while it travelled). */
const MAX_HOPS = 3;

function draining(): OtklikError {
  return new OtklikError(
    'UNAVAILABLE',
    'Сервер перезапускается, повторите сообщение через несколько секунд',
    {
      retryable: true,
    },
  );
}

export class ChatRouter {
  private draining = false;
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly callers = new Map<string, string>();
  private readonly releasing = new Map<string, Promise<void>>();

  private constructor(
    private readonly o: ChatRouterOptions,
    private readonly bus: ChatBus | null,
  ) {
    const local = o.sessions;
    local.onOpen((id, leg) => this.opened(id, leg));
    if (bus) {
      local.onChange((id) => bus.publishChange(id));
      const every = Math.max(100, Math.floor(o.redis!.leaseMs / 3));
      this.renewTimer = setInterval(() => void this.renew(), every);
      this.renewTimer.unref();
    }
  }

  /** The router, on Redis when it can be reached; without it, the chats of this process alone (logged). */
  static async start(o: ChatRouterOptions): Promise<ChatRouter> {
    if (!o.redis) {
      o.log.info('chat sessions stay in this process (no Redis configured): run one node only');
      return new ChatRouter(o, null);
    }
    let bus: ChatBus | null = null;
    const router: { r?: ChatRouter } = {};
    try {
      bus = await ChatBus.open({
        ...o.redis,
        instanceId: o.instanceId,
        log: o.log,
        handle: (req) => router.r!.run(req),
      });
    } catch (err) {
      o.log.warn(
        { err: (err as Error).message },
        'chat sessions stay in this process (Redis unavailable): run one node only, or restart with Redis',
      );
    }
    router.r = new ChatRouter(o, bus);
    if (bus) {
      await router.r.renew();
      o.log.info(
        { instanceId: o.instanceId, prefix: o.redis.prefix },
        'chats are shared with the other nodes',
      );
    }
    return router.r;
  }

  /** Whether chats are shared over Redis (events then come through it, on every node alike). */
  get shared(): boolean {
    return this.bus !== null;
  }

  start(caller?: string): Promise<ChatTurn> {
    return this.run({ op: 'start', id: '', args: [caller ?? null], hops: 0 }) as Promise<ChatTurn>;
  }

  say(id: string, text: string): Promise<ChatTurn> {
    return this.run({ op: 'say', id, args: [text], hops: 0 }) as Promise<ChatTurn>;
  }

  press(id: string, digits: string): Promise<ChatTurn> {
    return this.run({ op: 'press', id, args: [digits], hops: 0 }) as Promise<ChatTurn>;
  }

  hangup(id: string): Promise<ChatTurn> {
    return this.run({ op: 'hangup', id, args: [], hops: 0 }) as Promise<ChatTurn>;
  }

  operatorJoined(callId: string, operator: ChatOperator): Promise<boolean> {
    return this.run({ op: 'joined', id: callId, args: [operator], hops: 0 }) as Promise<boolean>;
  }

  async operatorSays(callId: string, operator: ChatOperator, text: string): Promise<void> {
    await this.run({ op: 'says', id: callId, args: [operator, text], hops: 0 });
  }

  async operatorClosed(callId: string, operator: ChatOperator): Promise<void> {
    await this.run({ op: 'closed', id: callId, args: [operator], hops: 0 });
  }

  /** Every node's desk hears of each change of a chat an operator holds, whichever node serves it. */
  onChange(listener: (callId: string) => void): () => void {
    return this.bus ? this.bus.onChange(listener) : this.o.sessions.onChange(listener);
  }

  /**
   * Follows what the citizen sees in chat `id` (the WebSocket's attach), wherever it is served; NOT_FOUND
   * when no node knows it. Resolves once listening.
   */
  async watch(id: string, listener: (event: ChatEvent) => void): Promise<() => void> {
    const local = this.o.sessions;
    if (!this.bus) {
      const leg = local.leg(id);
      const offs = [
        leg.onBotMessage((m) =>
          listener({
            type: 'bot',
            text: m.text,
            at: m.at.toISOString(),
            ...(m.notice ? { notice: true } : {}),
          }),
        ),
        leg.onOperatorMessage((m) =>
          listener({ type: 'operator', text: m.text, at: m.at.toISOString(), name: m.name }),
        ),
        // The chat can end without the citizen doing anything (the operator closed it, the idle timeout).
        leg.onEnd(() => void local.outcome(id).then((outcome) => listener({ type: 'ended', outcome }))),
      ];
      if (leg.ended) void local.outcome(id).then((outcome) => listener({ type: 'ended', outcome }));
      return () => {
        for (const off of offs) off();
      };
    }
    if (!local.has(id) && !(await this.bus.known(id)))
      throw new OtklikError('NOT_FOUND', 'Сеанс чата не найден или уже завершён');
    const off = await this.bus.watch(id, (e) => listener(e as ChatEvent));
    if (local.has(id) && local.leg(id).ended)
      void local.outcome(id).then((outcome) => listener({ type: 'ended', outcome }));
    return off;
  }

  /**
   * SIGTERM: this node takes no more chats (new ones and ownerless ones go to another node) and lets its
   * chats go, each after its turn in progress, with its checkpoint saved: the next message is taken over.
   */
  async drain(): Promise<void> {
    const bus = this.bus;
    if (!bus || this.draining) return;
    this.draining = true;
    await bus.renew([], false).catch(() => undefined);
    const ids = this.o.sessions.liveIds();
    await Promise.all(
      ids.map(async (id) => {
        const released = (async () => {
          const checkpoint = await this.o.sessions.release(id);
          if (checkpoint) await this.save(id, checkpoint);
          await bus.release(id);
        })();
        this.releasing.set(id, released);
        await released.finally(() => this.releasing.delete(id));
      }),
    );
    this.o.log.info({ released: ids.length }, 'drain: chats handed on to the other nodes');
  }

  async close(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.bus?.renew([], false).catch(() => undefined);
    await this.bus?.close();
  }

  /** One request, here or at the chat's owner (`req.hops`: how often it was passed on already). */
  private async run(req: ChatRequest): Promise<unknown> {
    const { bus } = this;
    const local = this.o.sessions;
    // A message while its chat is being let go (a drain) waits for that, then goes to the next node.
    await this.releasing.get(req.id)?.catch(() => undefined);
    if (!bus || local.has(req.id) || (req.op === 'start' && !this.draining)) return this.here(req);
    if (req.hops >= MAX_HOPS) throw draining();
    const next = { ...req, hops: req.hops + 1 };
    if (req.op === 'start') return this.elsewhere(next);
    const owner = await bus.owner(req.id);
    if (owner && owner !== bus.instanceId) {
      try {
        return await bus.forward(owner, next);
      } catch (err) {
        // No answer in time, and the lease lapsed meanwhile: its host went away without closing its socket.
        if (isOtklikError(err, 'UNAVAILABLE') && (await bus.owner(req.id)) !== owner) return this.run(next);
        if (!(err instanceof OwnerGone)) throw err;
        this.o.log.warn({ callId: req.id, owner }, 'the node serving a chat is gone; taking the chat over');
      }
    }
    if (this.draining) return this.elsewhere(next);
    // The owner gone, or this very instance before its restart: the lease is swapped, else claimed afresh.
    if (!(await bus.claim(req.id, owner ?? undefined))) return this.run(next);
    await this.takeOver(req.id);
    return this.here(req);
  }

  /** Draining: the request goes to a node that takes chats. */
  private async elsewhere(req: ChatRequest): Promise<unknown> {
    const other = await this.bus!.otherNode();
    if (!other) throw draining();
    try {
      return await this.bus!.forward(other, req);
    } catch (err) {
      if (err instanceof OwnerGone) throw draining();
      throw err;
    }
  }

  /** The chat's session starts here from its checkpoint; NOT_FOUND when there is nothing to go on from. */
  private async takeOver(id: string): Promise<void> {
    const bus = this.bus!;
    const saved = await bus.state<SavedChat>(id);
    const call = saved ? await claimChatCall(this.o.sql, id, this.o.instanceId) : null;
    if (!saved || !call) {
      await bus.release(id);
      throw new OtklikError('NOT_FOUND', 'Сеанс чата не найден или уже завершён');
    }
    this.callers.set(id, saved.caller);
    const turns = await getTurns(this.o.sql, id);
    await this.o.sessions.resume(id, saved.caller, {
      checkpoint: saved.checkpoint,
      turns,
      startedAt: call.startedAt,
    });
    this.o.log.info({ callId: id, step: saved.checkpoint.step }, 'chat taken over by this node');
  }

  /** Runs a request on this node's sessions; the checkpoint is saved after it, whatever it answered. */
  private async here(req: ChatRequest): Promise<unknown> {
    const local = this.o.sessions;
    let id = req.id;
    try {
      switch (req.op) {
        case 'start': {
          const caller = (req.args[0] as string | null) ?? undefined;
          const turn = await local.start(caller);
          id = turn.id;
          this.callers.set(id, caller ?? '');
          return turn;
        }
        case 'say':
          return await local.say(id, req.args[0] as string);
        case 'press':
          return await local.press(id, req.args[0] as string);
        case 'hangup':
          return await local.hangup(id);
        case 'joined':
          return await local.operatorJoined(id, req.args[0] as ChatOperator);
        case 'says':
          return await local.operatorSays(id, req.args[0] as ChatOperator, req.args[1] as string);
        case 'closed':
          return await local.operatorClosed(id, req.args[0] as ChatOperator);
        default:
          throw new OtklikError('VALIDATION_FAILED', `Неизвестное действие чата: ${req.op}`);
      }
    } finally {
      if (this.bus && id) await this.afterTurn(id);
    }
  }

  /** After each turn: the lease renewed and the checkpoint saved, or both dropped once the chat is over. */
  private async afterTurn(id: string): Promise<void> {
    const checkpoint = this.o.sessions.checkpoint(id);
    try {
      if (checkpoint && (await this.bus!.renew([id], !this.draining)).length === 0)
        await this.save(id, checkpoint);
    } catch (err) {
      if (!isOtklikError(err)) this.o.log.warn({ err, callId: id }, 'cannot save the chat checkpoint');
    }
  }

  private save(id: string, checkpoint: ChatCheckpoint): Promise<void> {
    const saved: SavedChat = { caller: this.callers.get(id) ?? '', checkpoint };
    return this.bus!.saveState(id, saved);
  }

  /** A session opened here: what the citizen sees goes out to every node, and its end frees the chat. */
  private opened(id: string, leg: TextLeg): void {
    const bus = this.bus;
    if (!bus) return;
    leg.onBotMessage((m) =>
      bus.publishEvent(id, {
        type: 'bot',
        text: m.text,
        at: m.at.toISOString(),
        ...(m.notice ? { notice: true } : {}),
      }),
    );
    leg.onOperatorMessage((m) =>
      bus.publishEvent(id, { type: 'operator', text: m.text, at: m.at.toISOString(), name: m.name }),
    );
    leg.onEnd(() => {
      void this.o.sessions.outcome(id).then(async (outcome) => {
        // Released to another node (a drain): not the chat's end.
        if (outcome === null && !this.o.sessions.has(id)) return;
        if (this.draining && !this.o.sessions.has(id)) return;
        bus.publishEvent(id, { type: 'ended', outcome });
        this.callers.delete(id);
        await bus.release(id, true).catch(() => undefined);
      });
    });
  }

  private async renew(): Promise<void> {
    try {
      const lost = (await this.bus?.renew(this.o.sessions.liveIds(), !this.draining)) ?? [];
      for (const id of lost) {
        // Another node took the chat over while this one could not renew: its session is the chat's now.
        this.o.log.warn({ callId: id }, 'another node took this chat over; its session here stops');
        await this.o.sessions.release(id);
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cannot renew the chat leases');
    }
  }
}
