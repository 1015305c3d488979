/**
 * The Redis side of web chats shared between nodes (chat-router.ts decides; this file only talks to Redis):
 *   {prefix}:chat:owner:{id}   the instance serving the chat, with a TTL (the lease), renewed while it runs
 *   {prefix}:chat:state:{id}   the chat's last checkpoint (JSON), for the node that takes it over
 *   {prefix}:chat:nodes        sorted set: instance → until when it takes chats (drained nodes leave it)
 *   channels  {prefix}:chat:rpc:{instance}  requests passed to the instance, answered on
 *             {prefix}:chat:reply:{instance} by correlation id; {prefix}:chat:events:{id} what the citizen
 *             sees as it happens (the WebSocket on any node); {prefix}:chat:changes the desk's change events.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type ErrorCode, OtklikError, toOtklikError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';

export interface ChatRequest {
  op: string;
  id: string;
  args: unknown[];
  hops: number;
}

type Reply =
  | { corr: string; ok: true; value: unknown }
  | { corr: string; ok: false; code: ErrorCode; message: string; retryable: boolean; details?: unknown };

export interface ChatBusOptions {
  url: string;
  prefix: string;
  instanceId: string;
  leaseMs: number;
  forwardTimeoutMs: number;
  /** How long a chat's checkpoint is kept (the chats' idle timeout). */
  stateTtlMs: number;
  log: Logger;
  /** Runs a request another node passed here. */
  handle: (req: ChatRequest) => Promise<unknown>;
}

/** Renews a lease this node holds, or one that lapsed; 0 when another node holds it now. */
const RENEW = `local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** Thrown by `forward` when nobody listens on the owner's channel: that node is gone. */
export class OwnerGone extends Error {}

export class ChatBus {
  private readonly pending = new Map<
    string,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly watchers = new Map<string, Set<(msg: unknown) => void>>();
  private readonly changeListeners = new Set<(id: string) => void>();
  private readonly k: (...parts: string[]) => string;

  private constructor(
    private readonly o: ChatBusOptions,
    private readonly cmd: Redis,
    private readonly sub: Redis,
  ) {
    this.k = (...parts) => [o.prefix, 'chat', ...parts].join(':');
  }

  /** Connects, or rejects when Redis cannot be reached (the router then keeps chats in memory). */
  static async open(o: ChatBusOptions): Promise<ChatBus> {
    const make = () =>
      new Redis(o.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectTimeout: 3000,
        enableOfflineQueue: true,
      });
    const cmd = make();
    const sub = make();
    for (const c of [cmd, sub])
      c.on('error', (err) => o.log.warn({ err: err.message }, 'chat routing: redis connection problem'));
    try {
      await cmd.connect();
      await sub.connect();
      await cmd.ping();
    } catch (err) {
      cmd.disconnect();
      sub.disconnect();
      throw err;
    }
    const bus = new ChatBus(o, cmd, sub);
    sub.on('message', (channel: string, message: string) => bus.onMessage(channel, message));
    await sub.subscribe(bus.k('rpc', o.instanceId), bus.k('reply', o.instanceId), bus.k('changes'));
    return bus;
  }

  get instanceId(): string {
    return this.o.instanceId;
  }

  owner(id: string): Promise<string | null> {
    return this.cmd.get(this.k('owner', id));
  }

  /** Takes the lease of a chat nobody holds (or that `gone` held: its node no longer listens). */
  async claim(id: string, gone?: string): Promise<boolean> {
    const key = this.k('owner', id);
    if (gone) {
      const swapped = await this.cmd.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0",
        1,
        key,
        gone,
        this.o.instanceId,
        String(this.o.leaseMs),
      );
      if (swapped === 1) return true;
    }
    return (await this.cmd.set(key, this.o.instanceId, 'PX', this.o.leaseMs, 'NX')) === 'OK';
  }

  /**
   * Renews the leases of the chats this node serves, and its place among the nodes that take chats. Returns
   * the chats another node holds by now (this node's lease lapsed, say in a Redis outage, and it took over).
   */
  async renew(ids: string[], takesChats: boolean): Promise<string[]> {
    const m = this.cmd.multi();
    for (const id of ids) m.eval(RENEW, 1, this.k('owner', id), this.o.instanceId, String(this.o.leaseMs));
    const now = Date.now();
    if (takesChats) m.zadd(this.k('nodes'), now + this.o.leaseMs, this.o.instanceId);
    else m.zrem(this.k('nodes'), this.o.instanceId);
    m.zremrangebyscore(this.k('nodes'), '-inf', now);
    const results = (await m.exec()) ?? [];
    return ids.filter((_id, i) => results[i]?.[1] === 0);
  }

  /** Another node that takes chats now, or null. */
  async otherNode(): Promise<string | null> {
    const nodes = await this.cmd.zrangebyscore(this.k('nodes'), Date.now(), '+inf');
    const others = nodes.filter((n) => n !== this.o.instanceId);
    return others[Math.floor(Math.random() * others.length)] ?? null;
  }

  async saveState(id: string, state: unknown): Promise<void> {
    await this.cmd.set(this.k('state', id), JSON.stringify(state), 'PX', this.o.stateTtlMs);
  }

  async state<T>(id: string): Promise<T | null> {
    const raw = await this.cmd.get(this.k('state', id));
    return raw ? (JSON.parse(raw) as T) : null;
  }

  /** Drops the lease (a drain, or the chat ended); with `forget`, the checkpoint too. */
  async release(id: string, forget = false): Promise<void> {
    const keys = [this.k('owner', id), ...(forget ? [this.k('state', id)] : [])];
    await this.cmd.del(...keys);
  }

  /** Whether some node serves the chat or can take it over. */
  async known(id: string): Promise<boolean> {
    return (await this.cmd.exists(this.k('owner', id), this.k('state', id))) > 0;
  }

  /** Passes a request to the node `to`; OwnerGone when nobody listens there. */
  async forward(to: string, req: ChatRequest): Promise<unknown> {
    const corr = randomUUID();
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(corr);
        reject(
          new OtklikError('UNAVAILABLE', 'Сервер чата не ответил вовремя, повторите сообщение', {
            retryable: true,
          }),
        );
      }, this.o.forwardTimeoutMs);
      this.pending.set(corr, { resolve, reject, timer });
    });
    const body = JSON.stringify({ ...req, corr, from: this.o.instanceId });
    const receivers = await this.cmd.publish(this.k('rpc', to), body);
    if (receivers === 0) {
      const p = this.pending.get(corr);
      if (p) clearTimeout(p.timer);
      this.pending.delete(corr);
      answer.catch(() => undefined);
      throw new OwnerGone(to);
    }
    return answer;
  }

  /** What the citizen sees, to every node's WebSocket watching the chat. */
  publishEvent(id: string, event: unknown): void {
    void this.cmd.publish(this.k('events', id), JSON.stringify(event)).catch(() => undefined);
  }

  publishChange(id: string): void {
    void this.cmd.publish(this.k('changes'), id).catch(() => undefined);
  }

  onChange(listener: (id: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  /** Listens to a chat's events; resolves once subscribed. */
  async watch(id: string, listener: (event: unknown) => void): Promise<() => void> {
    const channel = this.k('events', id);
    let set = this.watchers.get(channel);
    if (!set) {
      set = new Set();
      this.watchers.set(channel, set);
      await this.sub.subscribe(channel);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.watchers.get(channel) === set) {
        this.watchers.delete(channel);
        void this.sub.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    await Promise.allSettled([this.sub.quit(), this.cmd.quit()]);
  }

  private onMessage(channel: string, message: string): void {
    try {
      if (channel === this.k('changes')) {
        for (const l of this.changeListeners) l(message);
      } else if (channel === this.k('reply', this.o.instanceId)) {
        this.onReply(JSON.parse(message) as Reply);
      } else if (channel === this.k('rpc', this.o.instanceId)) {
        void this.onRequest(JSON.parse(message) as ChatRequest & { corr: string; from: string });
      } else {
        const event: unknown = JSON.parse(message);
        for (const l of this.watchers.get(channel) ?? []) l(event);
      }
    } catch (err) {
      this.o.log.error({ err, channel }, 'chat routing: a message from redis failed');
    }
  }

  private onReply(reply: Reply): void {
    const p = this.pending.get(reply.corr);
    if (!p) return;
    this.pending.delete(reply.corr);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.value);
    else
      p.reject(
        new OtklikError(reply.code, reply.message, {
          retryable: reply.retryable,
          ...(reply.details ? { details: reply.details as Record<string, unknown> } : {}),
        }),
      );
  }

  private async onRequest(req: ChatRequest & { corr: string; from: string }): Promise<void> {
    let reply: Reply;
    try {
      reply = { corr: req.corr, ok: true, value: (await this.o.handle(req)) ?? null };
    } catch (err) {
      const e = toOtklikError(err);
      if (e.code === 'INTERNAL') this.o.log.error({ err, callId: req.id, op: req.op }, 'chat request failed');
      reply = {
        corr: req.corr,
        ok: false,
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        ...(e.details ? { details: e.details } : {}),
      };
    }
    await this.cmd
      .publish(this.k('reply', req.from), JSON.stringify(reply))
      .catch((err) =>
        this.o.log.error({ err, callId: req.id }, 'chat routing: cannot answer a passed request'),
      );
  }
}
