import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * A stand-in for drachtio-server's admin socket, speaking its TCP protocol to the real drachtio-srf: frames
 * are `<byte length>#<message id>|<verb>|…`; the application authenticates (`authenticate|secret|tags`),
 * registers routes (`route|invite`), and gets SIP requests as `sip|network|…` frames carrying the raw
 * message; its responses come back as `sip|<txn>|<dialog>` frames with the raw SIP response. Requests the
 * application originates itself (fsmrf creating a FreeSWITCH endpoint) are refused with 503 here: there is
 * no SIP network behind this stand-in.
 */
export interface SentResponse {
  callId: string;
  status: number;
  reason: string;
  raw: string;
}

export class FakeDrachtio {
  readonly responses: SentResponse[] = [];
  readonly routes: string[] = [];
  readonly outgoingRequests: string[] = [];
  private readonly clients = new Set<Socket>();
  private server: Server | null = null;
  port = 0;

  constructor(private readonly secret = 'cymru') {}

  async start(): Promise<number> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A carrier's INVITE arrives for `to` from `from`; returns its Call-ID. */
  invite(to: string, from: string): string {
    const callId = `${randomUUID()}@10.0.0.9`;
    const sdp = [
      'v=0',
      'o=carrier 1 1 IN IP4 10.0.0.9',
      's=-',
      'c=IN IP4 10.0.0.9',
      't=0 0',
      'm=audio 40000 RTP/AVP 8 101',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      '',
    ].join('\r\n');
    const sip = [
      `INVITE sip:${to}@127.0.0.1:5060 SIP/2.0`,
      'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-otklik-1;rport',
      `From: <sip:${from}@10.0.0.9>;tag=carrier-1`,
      `To: <sip:${to}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:${from}@10.0.0.9:5060>`,
      'Max-Forwards: 69',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ].join('\r\n');
    const txn = randomUUID();
    const leader = [
      'sip',
      'network',
      String(Buffer.byteLength(sip)),
      'udp',
      '10.0.0.9',
      '5060',
      '12:00:00.000000',
      txn,
      '',
      'udp',
      '127.0.0.1:5060',
    ];
    for (const c of this.clients) this.send(c, `${leader.join('|')}\r\n${sip}`);
    return callId;
  }

  private send(socket: Socket, payload: string): string {
    const id = randomUUID();
    const s = `${id}|${payload}`;
    socket.write(`${Buffer.byteLength(s)}#${s}`);
    return id;
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash <= 0) return;
        const size = Number(buffer.toString('utf8', 0, hash));
        if (buffer.length < hash + 1 + size) return;
        const message = buffer.toString('utf8', hash + 1, hash + 1 + size);
        buffer = buffer.subarray(hash + 1 + size);
        this.onMessage(socket, message);
      }
    });
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => this.clients.delete(socket));
  }

  private onMessage(socket: Socket, message: string): void {
    const eol = message.indexOf('\r\n');
    const leader = eol === -1 ? message : message.slice(0, eol);
    const raw = eol === -1 ? '' : message.slice(eol + 2);
    const [id = '', verb = '', ...args] = leader.split('|');
    switch (verb) {
      case 'authenticate':
        if (args[0] === this.secret) this.send(socket, `response|${id}|OK|127.0.0.1:5060|v0.8.1`);
        else {
          this.send(socket, `response|${id}|NOK|incorrect secret`);
          socket.end();
        }
        return;
      case 'route':
        this.routes.push(args[0] ?? '');
        this.send(socket, `response|${id}|OK`);
        return;
      case 'sip':
        this.onSip(socket, id, raw);
        return;
      default:
        this.send(socket, `response|${id}|OK`);
    }
  }

  private onSip(socket: Socket, id: string, raw: string): void {
    const first = raw.slice(0, raw.indexOf('\r\n'));
    const callId = /^Call-ID:\s*(.+)$/im.exec(raw)?.[1]?.trim() ?? '';
    const status = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(first);
    if (status) {
      this.responses.push({ callId, status: Number(status[1]), reason: status[2] ?? '', raw });
      this.send(
        socket,
        `response|${id}|OK|application|${Buffer.byteLength(raw)}|udp|127.0.0.1|5060|12:00:00.000000|||\r\n${raw}`,
      );
      return;
    }
    // A request the application sends (fsmrf's INVITE to FreeSWITCH): nothing on the SIP side answers it.
    this.outgoingRequests.push(first);
    this.send(socket, `response|${id}|NOK|503 Service Unavailable`);
  }
}
