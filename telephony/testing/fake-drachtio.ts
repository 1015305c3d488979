import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * A stand-in for drachtio-server's admin socket, speaking its TCP protocol to the real drachtio-srf: frames
 * are `<byte length>#<message id>|<verb>|…`; the application authenticates (`authenticate|secret|tags`),
 * registers routes (`route|invite`), pings, and gets SIP messages as `sip|network|…|<txn>|<dialog>` frames
 * carrying the raw message; what it sends (`sip|<txn>|<dialog>` with a raw request or response) is echoed
 * back as `response|<id>|OK|application|…|<txn>|<dialog>` or refused with `NOK`.
 *
 * The carrier's side: INVITEs (any body and content type), CANCEL, BYE and re-INVITEs in the caller's dialog.
 * drachtio-server's behaviour the tests rely on: a final response to a CANCELed INVITE is refused ("Response
 * not sent due to unknown transaction"), and an application message larger than its read buffer (12 228 bytes
 * in v0.9.10) is never completed: that connection reads nothing more, pings included.
 *
 * FreeSWITCH's side: fsmrf's INVITE to `sip:drachtio@…` (and the re-INVITEs and BYE in that dialog) go to an
 * attached SipMediaServer (the FreeSWITCH stand-in), which answers as FreeSWITCH's drachtio_mrf profile;
 * without one they are refused with 503 (there is no SIP network behind this stand-in).
 */
export interface SentResponse {
  callId: string;
  status: number;
  reason: string;
  raw: string;
}

export interface MediaServerAnswer {
  status: number;
  reason: string;
  sdp?: string;
  /** The FreeSWITCH channel the dialog belongs to (a 200 to an INVITE). */
  channel?: string;
}

/** What FreeSWITCH's SIP profile does with what drachtio-server sends it. */
export interface SipMediaServer {
  invite(req: { callId: string; headers: Record<string, string>; sdp: string }): Promise<MediaServerAnswer>;
  reinvite(channel: string, sdp: string): Promise<MediaServerAnswer>;
  /** drachtio-server relays a BYE for the channel's dialog. */
  bye(channel: string): void;
}

interface CallerCall {
  callId: string;
  txn: string;
  from: string;
  to: string;
  canceled: boolean;
  dialogId: string | null;
  /** Requests the application sent the caller in the dialog (BYE when we hang up). */
  received: string[];
  reinvites: { txn: string; response: SentResponse | null }[];
}

export interface InviteOptions {
  sdp?: string;
  /** The body as sent; defaults to `sdp`. */
  body?: string;
  contentType?: string;
}

const CRLF = '\r\n';

function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf(CRLF + CRLF) === -1 ? raw.length : raw.indexOf(CRLF + CRLF));
  const re = new RegExp(`^${name}:\\s*(.*)$`, 'im');
  return re.exec(head)?.[1]?.trim();
}

function bodyOf(raw: string): string {
  const i = raw.indexOf(CRLF + CRLF);
  return i === -1 ? '' : raw.slice(i + 4);
}

function completeResponse(raw: string): string {
  const end = raw.indexOf(CRLF + CRLF);
  const head = (end === -1 ? raw : raw.slice(0, end)).split(CRLF);
  const body = end === -1 ? '' : raw.slice(end + 4);
  const out = head.map((l) => (/^To:/i.test(l) && !/;tag=/.test(l) ? `${l};tag=otklik-1` : l));
  if (!head.some((l) => /^Contact:/i.test(l))) out.push('Contact: <sip:122@127.0.0.1:5060>');
  return `${out.join(CRLF)}${CRLF}${CRLF}${body}`;
}

/** An SDP offer like a carrier's: PCMA and RFC 2833 events from 10.0.0.9. */
export function carrierSdp(
  opts: { version?: number; direction?: string; address?: string; codecs?: string } = {},
): string {
  return [
    'v=0',
    `o=carrier 1 ${opts.version ?? 1} IN IP4 10.0.0.9`,
    's=-',
    `c=IN IP4 ${opts.address ?? '10.0.0.9'}`,
    't=0 0',
    `m=audio 40000 RTP/AVP ${opts.codecs ?? '8 101'}`,
    ...(opts.codecs ? [] : ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000']),
    `a=${opts.direction ?? 'sendrecv'}`,
    '',
  ].join(CRLF);
}

export class FakeDrachtio {
  readonly responses: SentResponse[] = [];
  readonly routes: string[] = [];
  readonly outgoingRequests: string[] = [];
  /** Connections from the application so far (a reconnect adds one). */
  connections = 0;
  /** Connections that sent a frame larger than the read buffer and are stuck reading it. */
  wedged = 0;
  private readonly clients = new Set<Socket>();
  private readonly stuck = new Set<Socket>();
  private readonly calls = new Map<string, CallerCall>();
  /** The FreeSWITCH side's dialogs: dialog id → channel uuid. */
  private readonly mediaDialogs = new Map<string, { channel: string; callId: string; raw: string }>();
  private server: Server | null = null;
  private media: SipMediaServer | null = null;
  port = 0;

  constructor(
    private readonly secret = 'cymru',
    private readonly opts: { readBufferBytes?: number } = {},
  ) {}

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

  /** Every connection stops reading, as one stuck on a message it can never complete. */
  wedgeAll(): void {
    for (const c of this.clients) this.stuck.add(c);
  }

  /** FreeSWITCH's drachtio_mrf profile behind this drachtio-server. */
  attachMediaServer(media: SipMediaServer): void {
    this.media = media;
  }

  /** A carrier's INVITE arrives for `to` from `from`; returns its Call-ID. */
  invite(to: string, from: string, opts: InviteOptions = {}): string {
    const callId = `${randomUUID()}@10.0.0.9`;
    const body = opts.body ?? opts.sdp ?? carrierSdp();
    const sip = [
      `INVITE sip:${to}@127.0.0.1:5060 SIP/2.0`,
      'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-otklik-1;rport',
      `From: <sip:${from}@10.0.0.9>;tag=carrier-1`,
      `To: <sip:${to}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:${from}@10.0.0.9:5060>`,
      'Max-Forwards: 69',
      `Content-Type: ${opts.contentType ?? 'application/sdp'}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join(CRLF);
    const txn = randomUUID();
    this.calls.set(callId, {
      callId,
      txn,
      from,
      to,
      canceled: false,
      dialogId: null,
      received: [],
      reinvites: [],
    });
    this.toApp(sip, txn, '');
    return callId;
  }

  /** The caller gives up before the answer: CANCEL; drachtio-server answers the INVITE 487 itself. */
  cancel(callId: string): void {
    const call = this.mustCall(callId);
    call.canceled = true;
    const sip = [
      `CANCEL sip:${call.to}@127.0.0.1:5060 SIP/2.0`,
      'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-otklik-1;rport',
      `From: <sip:${call.from}@10.0.0.9>;tag=carrier-1`,
      `To: <sip:${call.to}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 CANCEL',
      'Max-Forwards: 69',
      'Content-Length: 0',
      '',
      '',
    ].join(CRLF);
    this.responses.push({ callId, status: 487, reason: 'Request Terminated', raw: '' });
    this.toApp(sip, randomUUID(), '');
  }

  /** The caller hangs up an answered call. */
  bye(callId: string): void {
    const call = this.mustCall(callId);
    if (!call.dialogId) throw new Error(`call ${callId} is not answered`);
    this.toApp(this.inDialog(call, 'BYE', 2), randomUUID(), call.dialogId);
  }

  /** The caller re-INVITEs (hold, unhold, a new media address); resolves with the application's answer. */
  reinvite(callId: string, sdp: string, cseq = 3): Promise<SentResponse> {
    const call = this.mustCall(callId);
    if (!call.dialogId) throw new Error(`call ${callId} is not answered`);
    const txn = randomUUID();
    const entry = { txn, response: null as SentResponse | null };
    call.reinvites.push(entry);
    this.toApp(this.inDialog(call, 'INVITE', cseq, sdp), txn, call.dialogId);
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        if (entry.response) {
          clearInterval(poll);
          resolve(entry.response);
        }
      }, 5);
    });
  }

  /** Requests the application sent the caller in its dialog (BYE when the line hangs up). */
  receivedByCaller(callId: string): string[] {
    return this.calls.get(callId)?.received ?? [];
  }

  /** FreeSWITCH hung the channel up: it sends BYE in fsmrf's dialog, relayed to the application. */
  byeFromMediaServer(channel: string): void {
    for (const [dialogId, d] of this.mediaDialogs) {
      if (d.channel !== channel) continue;
      this.mediaDialogs.delete(dialogId);
      const sip = [
        'BYE sip:drachtio@127.0.0.1:5060 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-fs-bye',
        `From: ${header(d.raw, 'To')}`,
        `To: ${header(d.raw, 'From')}`,
        `Call-ID: ${d.callId}`,
        'CSeq: 2 BYE',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join(CRLF);
      this.toApp(sip, randomUUID(), dialogId);
    }
  }

  private mustCall(callId: string): CallerCall {
    const call = this.calls.get(callId);
    if (!call) throw new Error(`no call ${callId}`);
    return call;
  }

  private inDialog(call: CallerCall, method: string, cseq: number, sdp?: string): string {
    return [
      `${method} sip:drachtio@127.0.0.1:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-${randomUUID()};rport`,
      `From: <sip:${call.from}@10.0.0.9>;tag=carrier-1`,
      `To: <sip:${call.to}@127.0.0.1>;tag=otklik-1`,
      `Call-ID: ${call.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:${call.from}@10.0.0.9:5060>`,
      'Max-Forwards: 69',
      ...(sdp ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(sdp ?? '')}`,
      '',
      sdp ?? '',
    ].join(CRLF);
  }

  /** A SIP message from the network (or FreeSWITCH) to every connected application. */
  private toApp(sip: string, txn: string, dialogId: string): void {
    const leader = [
      'sip',
      'network',
      String(Buffer.byteLength(sip)),
      'udp',
      '10.0.0.9',
      '5060',
      '12:00:00.000000',
      txn,
      dialogId,
      'udp',
      '127.0.0.1:5060',
    ];
    for (const c of this.clients) if (!this.stuck.has(c)) this.send(c, `${leader.join('|')}${CRLF}${sip}`);
  }

  private send(socket: Socket, payload: string): string {
    const id = randomUUID();
    const s = `${id}|${payload}`;
    if (!socket.destroyed) socket.write(`${Buffer.byteLength(s)}#${s}`);
    return id;
  }

  private echo(socket: Socket, id: string, raw: string, txn: string, dialogId: string): void {
    this.send(
      socket,
      `response|${id}|OK|application|${Buffer.byteLength(raw)}|udp|127.0.0.1|5060|12:00:00.000000|${txn}|${dialogId}${CRLF}${raw}`,
    );
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    this.connections += 1;
    let buffer = Buffer.alloc(0);
    const limit = this.opts.readBufferBytes ?? 12_228;
    socket.on('data', (chunk: Buffer) => {
      if (this.stuck.has(socket)) return;
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash <= 0) return;
        const size = Number(buffer.toString('utf8', 0, hash));
        if (size > limit) {
          // drachtio-server waits for the rest of a message that cannot fit its buffer: forever.
          this.stuck.add(socket);
          this.wedged += 1;
          return;
        }
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
    const eol = message.indexOf(CRLF);
    const leader = eol === -1 ? message : message.slice(0, eol);
    const raw = eol === -1 ? '' : message.slice(eol + 2);
    const [id = '', verb = '', ...args] = leader.split('|');
    switch (verb) {
      case 'authenticate':
        if (args[0] === this.secret) this.send(socket, `response|${id}|OK|127.0.0.1:5060|v0.9.10`);
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
        this.onSip(socket, id, args[1] ?? '', raw);
        return;
      default:
        // ping and the rest
        this.send(socket, `response|${id}|OK`);
    }
  }

  private onSip(socket: Socket, id: string, dialogId: string, raw: string): void {
    const first = raw.slice(0, raw.indexOf(CRLF));
    const callId = header(raw, 'Call-ID') ?? '';
    const status = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(first);
    if (status) {
      this.onResponse(socket, id, callId, Number(status[1]), status[2] ?? '', raw);
      return;
    }
    const method = first.split(' ')[0] ?? '';
    const media = this.mediaDialogs.get(dialogId);
    if (media) {
      void this.toMediaServer(socket, id, method, dialogId, media, raw);
      return;
    }
    const call = dialogId ? [...this.calls.values()].find((c) => c.dialogId === dialogId) : undefined;
    if (call) {
      // A request to the caller in its dialog (our BYE): the caller's phone says 200.
      call.received.push(first.replace(/ .*/, ''));
      const txn = randomUUID();
      this.echo(socket, id, raw, txn, dialogId);
      if (method !== 'ACK') this.respondToApp(socket, raw, 200, 'OK', txn, dialogId, call.callId);
      return;
    }
    if (method === 'INVITE' && this.media && /^INVITE sip:drachtio@/.test(first)) {
      void this.newMediaDialog(socket, id, raw);
      return;
    }
    if (method === 'ACK' || method === 'CANCEL') {
      this.echo(socket, id, raw, randomUUID(), dialogId);
      return;
    }
    // A request the application sends elsewhere: nothing on the SIP side answers it.
    this.outgoingRequests.push(first);
    this.send(socket, `response|${id}|NOK|503 Service Unavailable`);
  }

  private onResponse(
    socket: Socket,
    id: string,
    callId: string,
    status: number,
    reason: string,
    raw: string,
  ): void {
    const call = this.calls.get(callId);
    const cseq = header(raw, 'CSeq') ?? '';
    const reinvite = call?.reinvites.find((r) => r.response === null);
    if (call && reinvite && call.dialogId && /INVITE/.test(cseq) && !/^1 /.test(cseq)) {
      if (status >= 200) reinvite.response = { callId, status, reason, raw };
      this.echo(socket, id, raw, reinvite.txn, call.dialogId);
      return;
    }
    if (call?.canceled && status >= 200) {
      this.send(socket, `response|${id}|NOK|Response not sent due to unknown transaction`);
      return;
    }
    // drachtio-server completes what the application leaves out: the To tag and the Contact.
    raw = completeResponse(raw);
    this.responses.push({ callId, status, reason, raw });
    let dialogId = '';
    if (call && status >= 200 && status < 300 && /INVITE/.test(cseq)) {
      call.dialogId = `dlg-${randomUUID()}`;
      dialogId = call.dialogId;
    }
    this.echo(socket, id, raw, call?.txn ?? '', dialogId);
  }

  /** fsmrf's INVITE that creates an endpoint: drachtio-server completes it and FreeSWITCH answers. */
  private async newMediaDialog(socket: Socket, id: string, raw: string): Promise<void> {
    const callId = `${randomUUID()}@127.0.0.1`;
    const lines = raw.split(CRLF);
    const headEnd = lines.indexOf('');
    const head = lines.slice(0, headEnd === -1 ? lines.length : headEnd);
    const body = bodyOf(raw);
    const has = (n: string) => header(raw, n) !== undefined;
    const extra = [
      ...(has('Via') ? [] : ['Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-app;rport']),
      ...(has('From') ? [] : [`From: <sip:otklik@127.0.0.1>;tag=app-${randomUUID().slice(0, 8)}`]),
      ...(has('To') ? [] : ['To: <sip:drachtio@127.0.0.1:5080>']),
      ...(has('Call-ID') ? [] : [`Call-ID: ${callId}`]),
      ...(has('CSeq') ? [] : ['CSeq: 1 INVITE']),
      ...(has('Contact') ? [] : ['Contact: <sip:127.0.0.1:5060>']),
      ...(has('Max-Forwards') ? [] : ['Max-Forwards: 70']),
    ];
    const sent = [...head.filter((l) => !/^Content-Length:/i.test(l)), ...extra]
      .concat([`Content-Length: ${Buffer.byteLength(body)}`, '', body])
      .join(CRLF);
    const txn = randomUUID();
    this.echo(socket, id, sent, txn, '');
    const headers: Record<string, string> = {};
    for (const l of head.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim()] = l.slice(i + 1).trim();
    }
    const theCallId = header(sent, 'Call-ID') ?? callId;
    const answer = await this.media!.invite({ callId: theCallId, headers, sdp: body });
    let dialogId = '';
    if (answer.status === 200 && answer.channel) {
      dialogId = `dlg-fs-${randomUUID()}`;
      this.mediaDialogs.set(dialogId, { channel: answer.channel, callId: theCallId, raw: sent });
    }
    this.respondToApp(socket, sent, answer.status, answer.reason, txn, dialogId, theCallId, answer.sdp);
  }

  private async toMediaServer(
    socket: Socket,
    id: string,
    method: string,
    dialogId: string,
    media: { channel: string; callId: string; raw: string },
    raw: string,
  ): Promise<void> {
    const txn = randomUUID();
    this.echo(socket, id, raw, txn, dialogId);
    if (method === 'ACK') return;
    if (method === 'BYE') {
      this.mediaDialogs.delete(dialogId);
      this.respondToApp(socket, raw, 200, 'OK', txn, dialogId, media.callId);
      this.media!.bye(media.channel);
      return;
    }
    if (method === 'INVITE') {
      const answer = await this.media!.reinvite(media.channel, bodyOf(raw));
      this.respondToApp(socket, raw, answer.status, answer.reason, txn, dialogId, media.callId, answer.sdp);
      return;
    }
    this.respondToApp(socket, raw, 200, 'OK', txn, dialogId, media.callId);
  }

  private respondToApp(
    socket: Socket,
    request: string,
    status: number,
    reason: string,
    txn: string,
    dialogId: string,
    callId: string,
    sdp?: string,
  ): void {
    const to = header(request, 'To') ?? '<sip:drachtio@127.0.0.1>';
    const sip = [
      `SIP/2.0 ${status} ${reason}`,
      `Via: ${header(request, 'Via') ?? 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-app'}`,
      `From: ${header(request, 'From') ?? '<sip:otklik@127.0.0.1>;tag=app'}`,
      `To: ${/;tag=/.test(to) ? to : `${to};tag=fs-${randomUUID().slice(0, 8)}`}`,
      `Call-ID: ${callId}`,
      `CSeq: ${header(request, 'CSeq') ?? '1 INVITE'}`,
      'Contact: <sip:mod_sofia@127.0.0.1:5080>',
      ...(sdp ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(sdp ?? '')}`,
      '',
      sdp ?? '',
    ].join(CRLF);
    const leader = [
      'sip',
      'network',
      String(Buffer.byteLength(sip)),
      'udp',
      '127.0.0.1',
      '5080',
      '12:00:00.000000',
      txn,
      dialogId,
    ];
    this.send(socket, `${leader.join('|')}${CRLF}${sip}`);
  }
}
