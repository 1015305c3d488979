import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The server side of mod_audio_fork's protocol, driven by a test in the voice bot's place: it records what
 * FreeSWITCH sends (metadata, audio, send_text events) and lets the test answer the way a bot does.
 */
export interface BotConnection {
  ws: WebSocket;
  metadata: Record<string, unknown>;
  texts: Record<string, unknown>[];
  audioBytes: number;
  closed: boolean;
  send(message: Record<string, unknown>): void;
}

export class BotSocket {
  readonly connections: BotConnection[] = [];
  private wss: WebSocketServer | null = null;
  port = 0;

  async start(): Promise<string> {
    this.wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) => (protocols.has('audio.drachtio.org') ? 'audio.drachtio.org' : false),
    });
    await new Promise<void>((resolve) => this.wss!.once('listening', () => resolve()));
    this.port = (this.wss.address() as AddressInfo).port;
    this.wss.on('connection', (ws) => {
      let conn: BotConnection | null = null;
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          if (conn) conn.audioBytes += (data as Buffer).length;
          return;
        }
        const parsed = JSON.parse(data.toString()) as Record<string, unknown>;
        if (!conn) {
          conn = {
            ws,
            metadata: parsed,
            texts: [],
            audioBytes: 0,
            closed: false,
            send: (m) => ws.send(JSON.stringify(m)),
          };
          this.connections.push(conn);
        } else conn.texts.push(parsed);
      });
      ws.on('close', () => {
        if (conn) conn.closed = true;
      });
    });
    return `ws://127.0.0.1:${this.port}/call`;
  }

  byCall(callId: string): BotConnection | undefined {
    return this.connections.find((c) => c.metadata.callId === callId);
  }

  async stop(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }
}

/** Polls until `check` returns a value (not a timing assertion: it only waits for the system to get there). */
export async function eventually<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
