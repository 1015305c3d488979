import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { encodeWav } from '../../media/audio/wav.js';
import { defaultPromptTexts, type PromptFiles, type TelephonyPromptId } from '../prompts.js';
import type { FakeDrachtio, MediaServerAnswer } from './fake-drachtio.js';

/**
 * A stand-in for FreeSWITCH at the one edge CI cannot run: its inbound event socket, speaking the ESL text
 * protocol (auth/request, `auth`, `event json|plain`, `api`, `bgapi` with BACKGROUND_JOB, `filter`, `exit`),
 * with channels that react to the API commands the adapter uses the way FreeSWITCH does: uuid_broadcast emits
 * PLAYBACK_START/STOP, uuid_break stops playback, uuid_record writes a WAV file, uuid_kill hangs up, and
 * uuid_audio_fork opens a real WebSocket to the given URL speaking mod_audio_fork's protocol (metadata text
 * frame, L16 binary frames; playAudio/killAudio/transfer messages back become mod_audio_fork::* events; a
 * dropped socket becomes mod_audio_fork::disconnect). The real drachtio-modesl/fsmrf code talks to it.
 *
 * With `attachSip(drachtio)` it is also FreeSWITCH's drachtio_mrf SIP profile behind the drachtio stand-in:
 * fsmrf's INVITE creates a channel (488 when the offer has no codec it takes, PCMA/PCMU), answered with its
 * SDP, and the channel connects back to fsmrf's listener as the dialplan's `socket … async full` does (the
 * outbound event socket: `connect` → CHANNEL_DATA, `sendmsg` executes applications). A channel runs one queue
 * of work, as FreeSWITCH's session thread does: uuid_broadcast playbacks and applications executed over the
 * socket (fsmrf's `hangup`) wait their turn; uuid_kill acts at once; `uuid_break` stops the current playback,
 * `uuid_break … all` drops the queue too. A hang-up sends BYE in fsmrf's dialog; `show channels` lists what
 * is up. Recordings are written with as many samples as the channel was recorded (the stand-in's clock).
 */
export type DialOutcome = 'answer' | 'USER_BUSY' | 'NO_ANSWER' | 'CALL_REJECTED' | 'NO_ROUTE_DESTINATION';

type Work = { kind: 'play'; file: string } | { kind: 'app'; app: string; arg: string; eventUuid: string };

interface FakeChannel {
  uuid: string;
  playing: string | null;
  /** Work waiting on the channel's thread: broadcasts and executed applications, in order. */
  queue: Work[];
  /** The longest the queue has been. */
  maxQueued: number;
  createdAt: number;
  recordingStartedAt: number;
  localSdp: string;
  sdpVersion: number;
  remoteSdp: string;
  /** fsmrf's outbound event socket for this channel, when it came through drachtio. */
  outbound: Client | null;
  /** The hang-up came as a BYE from drachtio: no BYE back. */
  byeReceived: boolean;
  hangupCause: string | null;
  forkPaused: boolean;
  playTimer: NodeJS.Timeout | null;
  recording: string | null;
  fork: WebSocket | null;
  forkStopping: boolean;
  bridgedTo: string | null;
  /** uuid_hold: the channel is held (its partner hears hold music). */
  held: boolean;
  /**
   * The far end holds (a re-INVITE with sendonly/inactive) and FreeSWITCH's own hold handling took it
   * (rtp_disable_hold not set): the channel reads no frames, so its media bugs (the session recording, the
   * fork) get nothing until the unhold. When that hold began, and how long such holds lasted so far.
   */
  protoHoldSince: number | null;
  protoHeldMs: number;
  /** The RTP inactivity timeout in force: media_timeout, re-read at every offer (media_hold_timeout on hold). */
  mediaTimeoutMs: number;
  /** An originated channel that runs `eavesdrop(<uuid>)` on that channel (a supervisor listening in). */
  eavesdropOn: string | null;
  vars: Record<string, string>;
  up: boolean;
}

interface Client {
  socket: Socket;
  /** An outbound (channel) connection: its channel's uuid. */
  channel?: string;
  authed: boolean;
  format: 'json' | 'plain';
  events: Set<string>;
  buffer: string;
}

export interface FakeFreeswitchOptions {
  password?: string;
  /** How long a played file "lasts" before PLAYBACK_STOP. */
  playbackMs?: number;
  /** Where fork play_audio files and the like are written. */
  tmpDir: string;
  /** The stand-in's clock (ms), for recordings' lengths; Date.now by default. */
  now?: () => number;
  /**
   * FreeSWITCH's event thread delivers CHANNEL_HANGUP_COMPLETE after api replies that were answered later:
   * a delay here lets a command for a channel that is gone be answered before its hang-up event arrives.
   */
  hangupEventDelayMs?: number;
  /** A FreeSWITCH that stops writing recordings after this long (what live calls showed): the app must notice. */
  cutRecordingsAtMs?: number;
}

/** The stand-in's clock of the channel, for recordings. */
const SAMPLE_RATE = 8000;

/** The `set` actions of the shipped drachtio_mrf dialplan (telephony/freeswitch/), which every fsmrf call runs. */
const DRACHTIO_MRF_VARS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ...readFileSync(new URL('../freeswitch/dialplan/drachtio_mrf.xml', import.meta.url), 'utf8').matchAll(
      /<action application="set" data="([^="]+)=([^"]*)"\/>/g,
    ),
  ].map((m) => [m[1]!, m[2]!]),
);

export class FakeFreeswitch {
  readonly commands: string[] = [];
  readonly played: { uuid: string; file: string }[] = [];
  readonly forkMessages: { uuid: string; text: string }[] = [];
  readonly channels = new Map<string, FakeChannel>();
  readonly dialOutcomes = new Map<string, DialOutcome>();
  /** Runs when fsmrf's INVITE has created a channel, before FreeSWITCH answers it (a test's CANCEL). */
  onInvite: ((uuid: string) => void | Promise<void>) | null = null;
  /** Runs after a message from the bot's socket was turned into its event (a test's hang-up race). */
  afterForkMessage: ((uuid: string, text: string) => void) | null = null;
  private readonly clients = new Set<Client>();
  private server: Server | null = null;
  private sip: FakeDrachtio | null = null;
  private readonly now: () => number;
  port = 0;

  constructor(private readonly opts: FakeFreeswitchOptions) {
    mkdirSync(opts.tmpDir, { recursive: true });
    this.now = opts.now ?? Date.now;
  }

  /** Puts this FreeSWITCH behind the drachtio stand-in as the drachtio_mrf SIP profile fsmrf calls. */
  attachSip(drachtio: FakeDrachtio): void {
    this.sip = drachtio;
    drachtio.attachMediaServer({
      invite: (req) => this.sipInvite(req),
      reinvite: async (channel, sdp) => this.sipReinvite(channel, sdp),
      bye: (channel) => {
        const ch = this.channels.get(channel);
        if (!ch) return;
        ch.byeReceived = true;
        this.hangup(channel);
      },
    });
  }

  /** Channels that are up, as `show channels` counts them. */
  get upChannels(): string[] {
    return [...this.channels.values()].filter((c) => c.up).map((c) => c.uuid);
  }

  async start(): Promise<number> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const ch of this.channels.values()) this.dropChannel(ch);
    for (const c of this.clients) c.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A call arrives: the channel exists and is answered (as after connectCaller). */
  addChannel(uuid: string = randomUUID()): string {
    this.channels.set(uuid, {
      uuid,
      playing: null,
      queue: [],
      maxQueued: 0,
      createdAt: this.now(),
      recordingStartedAt: 0,
      protoHoldSince: null,
      protoHeldMs: 0,
      mediaTimeoutMs: 0,
      localSdp: '',
      sdpVersion: 1,
      remoteSdp: '',
      outbound: null,
      byeReceived: false,
      hangupCause: null,
      forkPaused: false,
      playTimer: null,
      recording: null,
      fork: null,
      forkStopping: false,
      bridgedTo: null,
      held: false,
      eavesdropOn: null,
      vars: {},
      up: true,
    });
    return uuid;
  }

  /** The caller presses a key (RFC 2833). */
  dtmf(uuid: string, digit: string): void {
    this.emit('DTMF', { 'Unique-ID': uuid, 'DTMF-Digit': digit, 'DTMF-Duration': '1600' });
  }

  /**
   * The far end sends no RTP for `ms` (a phone on an inactive hold, or a dead one): FreeSWITCH hangs the
   * channel up with MEDIA_TIMEOUT once the timeout in force has passed.
   */
  silence(uuid: string, ms: number): void {
    const ch = this.channels.get(uuid);
    if (ch?.up && ch.mediaTimeoutMs > 0 && ms >= ch.mediaTimeoutMs) this.hangup(uuid, 'MEDIA_TIMEOUT');
  }

  /** The caller (or the far end) hangs up. */
  hangup(uuid: string, cause = 'NORMAL_CLEARING'): void {
    const ch = this.channels.get(uuid);
    if (!ch?.up) return;
    this.dropChannel(ch);
    ch.hangupCause = cause;
    if (ch.recording) this.finishRecording(ch);
    const events = () => {
      this.emit('CHANNEL_HANGUP', { 'Unique-ID': uuid, 'Hangup-Cause': cause });
      this.emit('CHANNEL_HANGUP_COMPLETE', { 'Unique-ID': uuid, 'Hangup-Cause': cause });
      if (ch.outbound) {
        ch.outbound.socket.end('Content-Type: text/disconnect-notice\nContent-Length: 0\n\n');
        ch.outbound = null;
      }
    };
    if (this.opts.hangupEventDelayMs) setTimeout(events, this.opts.hangupEventDelayMs);
    else events();
    if (!ch.byeReceived) this.sip?.byeFromMediaServer(uuid);
    // The bridged party hangs up with it, unless it is to park when the bridge ends (park_after_bridge).
    const partner = ch.bridgedTo ? this.channels.get(ch.bridgedTo) : undefined;
    if (partner?.vars.park_after_bridge === 'true') partner.bridgedTo = null;
    else if (partner) this.hangup(partner.uuid, cause);
  }

  /** Sends caller audio over the channel's audio fork, as binary L16 frames. */
  sendForkAudio(uuid: string, samples: Int16Array): void {
    const ch = this.channels.get(uuid);
    const ws = ch?.fork;
    if (ch?.forkPaused) return;
    if (ws?.readyState === WebSocket.OPEN)
      ws.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  }

  private dropChannel(ch: FakeChannel): void {
    ch.up = false;
    ch.queue = [];
    if (ch.playTimer) clearTimeout(ch.playTimer);
    if (ch.fork) {
      ch.forkStopping = true;
      ch.fork.close();
    }
  }

  private accept(socket: Socket): void {
    const client: Client = { socket, authed: false, format: 'plain', events: new Set(), buffer: '' };
    this.listen(client);
    socket.write('Content-Type: auth/request\n\n');
  }

  private listen(client: Client): void {
    const { socket } = client;
    this.clients.add(client);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      client.buffer += chunk;
      let end = client.buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = client.buffer.slice(0, end);
        client.buffer = client.buffer.slice(end + 2);
        this.onCommand(client, block);
        end = client.buffer.indexOf('\n\n');
      }
    });
    socket.on('close', () => this.clients.delete(client));
    socket.on('error', () => this.clients.delete(client));
  }

  private reply(client: Client, text: string, extra: Record<string, string> = {}): void {
    const headers = { 'Content-Type': 'command/reply', 'Reply-Text': text, ...extra };
    client.socket.write(
      `${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}\n\n`,
    );
  }

  private onCommand(client: Client, block: string): void {
    const [line = '', ...headerLines] = block.split('\n');
    const headers = Object.fromEntries(
      headerLines.map((h) => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1).trim()]),
    );
    if (!client.authed) {
      if (line === `auth ${this.opts.password ?? 'ClueCon'}`) {
        client.authed = true;
        this.reply(client, '+OK accepted');
      } else {
        this.reply(client, '-ERR invalid');
        client.socket.end('Content-Type: text/disconnect-notice\nContent-Length: 0\n\n');
      }
      return;
    }
    const [verb = ''] = line.split(' ', 1);
    const rest = line.slice(verb.length + 1);
    if (verb === 'connect' && client.channel) {
      this.channelData(client);
    } else if (verb === 'sendmsg') {
      this.reply(client, '+OK');
      this.sendmsg(rest || client.channel || '', headers);
    } else if (verb === 'linger' || verb === 'myevents' || verb === 'resume') {
      this.reply(client, '+OK');
    } else if (verb === 'event') {
      const [format, ...names] = rest.split(' ');
      client.format = format === 'json' ? 'json' : 'plain';
      for (const n of names) client.events.add(n);
      this.reply(client, `+OK event listener enabled ${client.format}`);
    } else if (verb === 'api') {
      const body = this.api(rest);
      client.socket.write(
        `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`,
      );
    } else if (verb === 'bgapi') {
      const jobId = headers['Job-UUID'] ?? randomUUID();
      this.reply(client, `+OK Job-UUID: ${jobId}`, { 'Job-UUID': jobId });
      setImmediate(() =>
        this.emit('BACKGROUND_JOB', { 'Job-UUID': jobId, 'Job-Command': rest }, this.api(rest)),
      );
    } else if (verb === 'filter' || verb === 'nixevent' || verb === 'noevents') {
      this.reply(client, '+OK');
    } else if (verb === 'exit') {
      this.reply(client, '+OK bye');
      client.socket.end('Content-Type: text/disconnect-notice\nContent-Length: 0\n\n');
    } else {
      this.reply(client, '-ERR command not found');
    }
  }

  /** Sends an event to every connection subscribed to it, in the format it asked for. */
  emit(name: string, headers: Record<string, string>, body?: string): void {
    const subclass = headers['Event-Subclass'];
    const all: Record<string, string> = { 'Event-Name': name, 'Core-UUID': 'fake-core', ...headers };
    for (const c of this.clients) {
      const wanted =
        c.events.has('all') ||
        c.events.has('ALL') ||
        c.events.has(name) ||
        (!!subclass && c.events.has(subclass));
      if (!c.authed || !wanted) continue;
      let payload: string;
      if (c.format === 'json') {
        payload = JSON.stringify(
          body === undefined
            ? all
            : { ...all, 'Content-Length': String(Buffer.byteLength(body)), _body: body },
        );
      } else {
        const lines = Object.entries(all).map(([k, v]) => `${k}: ${encodeURIComponent(v)}`);
        if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
        payload = `${lines.join('\n')}\n\n${body ?? ''}`;
      }
      const type = c.format === 'json' ? 'text/event-json' : 'text/event-plain';
      c.socket.write(`Content-Length: ${Buffer.byteLength(payload)}\nContent-Type: ${type}\n\n${payload}`);
    }
  }

  private custom(subclass: string, uuid: string, body?: string): void {
    this.emit('CUSTOM', { 'Event-Subclass': subclass, 'Unique-ID': uuid }, body);
  }

  /** The API commands the adapter uses, answered the way FreeSWITCH answers them. */
  private api(command: string): string {
    this.commands.push(command);
    const args = command.split(' ');
    const [name = '', uuid = ''] = args;
    const ch = this.channels.get(uuid);
    // uuid_hold answers in its own words, and takes `off` before the uuid.
    const needChannel = name.startsWith('uuid_') && name !== 'uuid_exists' && name !== 'uuid_hold';
    // uuid_broadcast says so in its own words (what telephony saw after callers hung up).
    if (name === 'uuid_broadcast' && !ch?.up) return '-ERR invalid uuid\n';
    if (needChannel && !ch?.up) return '-ERR No such channel!\n';
    switch (name) {
      case 'show':
        return this.showChannels();
      case 'uuid_dump':
        return `${Object.entries(this.dump(ch!))
          .map(([k, v]) => `${k}: ${encodeURIComponent(v)}`)
          .join('\n')}\n`;
      case 'uuid_set_media_stats':
        return '+OK\n';
      case 'status':
        return 'UP 0 years, 0 days\nFreeSWITCH (fake) is ready\n';
      case 'sofia':
        return [
          '                     Name\t   Type\t                                      Data\tState',
          '=================================================================================================',
          '            drachtio_mrf\tprofile\t         sip:mod_sofia@127.0.0.1:5080\tRUNNING (0)',
          '=================================================================================================',
          '1 profile 0 aliases',
          '',
        ].join('\n');
      case 'uuid_exists':
        return ch?.up ? 'true' : 'false';
      case 'uuid_setvar':
        ch!.vars[args[2] ?? ''] = args.slice(3).join(' ');
        return '+OK\n';
      case 'uuid_record':
        return this.record(ch!, args[2], args[3]);
      case 'uuid_broadcast':
        return this.broadcast(ch!, args[2] ?? '');
      case 'uuid_break':
        this.stopPlayback(ch!, 'break', args[2] === 'all');
        return '+OK\n';
      case 'uuid_kill':
        this.hangup(uuid, args[2] ?? 'NORMAL_CLEARING');
        return '+OK\n';
      case 'uuid_hold': {
        // `uuid_hold <uuid>` or `uuid_hold off <uuid>`; a channel that is not there: the operation fails.
        const off = args[1] === 'off';
        const held = this.channels.get((off ? args[2] : args[1]) ?? '');
        if (!held?.up) return '-ERR Operation Failed\n';
        held.held = !off;
        return '+OK Success\n';
      }
      case 'uuid_bridge': {
        const other = this.channels.get(args[2] ?? '');
        if (!other?.up) return '-ERR Invalid uuid\n';
        // Bridging a channel to another one unbridges its old partner (which parks, or hangs up).
        for (const c of [ch!, other]) {
          const old = c.bridgedTo ? this.channels.get(c.bridgedTo) : undefined;
          if (old && old.uuid !== ch!.uuid && old.uuid !== other.uuid) old.bridgedTo = null;
        }
        ch!.bridgedTo = other.uuid;
        other.bridgedTo = ch!.uuid;
        this.emit('CHANNEL_BRIDGE', { 'Unique-ID': uuid, 'Other-Leg-Unique-ID': other.uuid });
        return `+OK ${other.uuid}\n`;
      }
      case 'uuid_audio_fork':
        return this.audioFork(ch!, args);
      case 'originate':
        return this.originate(command.slice('originate '.length));
      default:
        return `-ERR ${name} Command not found!\n`;
    }
  }

  private record(ch: FakeChannel, action?: string, path?: string): string {
    if (!path) return '-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>]\n';
    if (action === 'start') {
      ch.recording = path;
      ch.recordingStartedAt = this.now();
      // FreeSWITCH writes the WAV as the call goes: its header first, the samples until the recording stops.
      this.writeRecording(ch, 0);
      return '+OK Success\n';
    }
    if (action === 'stop') {
      this.finishRecording(ch);
      return '+OK Success\n';
    }
    return '-ERR unknown action\n';
  }

  private writeRecording(ch: FakeChannel, ms: number): void {
    if (!ch.recording) return;
    const stereo = ch.vars.RECORD_STEREO === 'true' ? 2 : 1;
    const rate = Number(ch.vars.record_sample_rate) || SAMPLE_RATE;
    const frames = Math.round((ms * rate) / 1000);
    const samples = new Int16Array(frames * stereo).map((_, i) => Math.round(Math.sin(i / 5) * 3000));
    writeFileSync(ch.recording, encodeWav({ samples, sampleRate: rate }, stereo));
  }

  private finishRecording(ch: FakeChannel): void {
    const held = ch.protoHeldMs + (ch.protoHoldSince === null ? 0 : this.now() - ch.protoHoldSince);
    const ms = this.now() - ch.recordingStartedAt - held;
    this.writeRecording(ch, Math.min(ms, this.opts.cutRecordingsAtMs ?? ms));
    ch.recording = null;
  }

  private broadcast(ch: FakeChannel, path: string): string {
    this.enqueue(ch, { kind: 'play', file: path });
    return '+OK Message queued\n';
  }

  private enqueue(ch: FakeChannel, work: Work): void {
    ch.queue.push(work);
    ch.maxQueued = Math.max(ch.maxQueued, ch.queue.length);
    if (!ch.playing) this.playNext(ch);
  }

  /** The channel's thread takes the next piece of work: an application runs at once, a file plays. */
  private playNext(ch: FakeChannel): void {
    for (;;) {
      const work = ch.queue.shift();
      if (!work || !ch.up) return;
      if (work.kind === 'app') {
        this.runApp(ch, work);
        continue;
      }
      this.startPlaying(ch, work.file);
      return;
    }
  }

  private startPlaying(ch: FakeChannel, path: string): void {
    ch.playing = path;
    this.played.push({ uuid: ch.uuid, file: path });
    setImmediate(() => this.emit('PLAYBACK_START', { 'Unique-ID': ch.uuid, 'Playback-File-Path': path }));
    ch.playTimer = setTimeout(() => {
      this.stopPlayback(ch, 'done');
      this.playNext(ch);
    }, this.opts.playbackMs ?? 20);
  }

  /**
   * `uuid_break <uuid>` stops the current file (the next queued one starts); `uuid_break <uuid> all` also drops
   * the queued work (it never starts).
   */
  private stopPlayback(ch: FakeChannel, status: 'done' | 'break', all = false): void {
    if (all) ch.queue = [];
    if (!ch.playing) return;
    const file = ch.playing;
    ch.playing = null;
    if (ch.playTimer) clearTimeout(ch.playTimer);
    ch.playTimer = null;
    this.emit('PLAYBACK_STOP', {
      'Unique-ID': ch.uuid,
      'Playback-File-Path': file,
      'Playback-Status': status,
    });
    if (status === 'break' && !all) setImmediate(() => this.playNext(ch));
  }

  /** An application executed over the event socket (sendmsg), queued behind what the channel is doing. */
  private sendmsg(uuid: string, headers: Record<string, string>): void {
    const ch = this.channels.get(uuid);
    if (!ch?.up || headers['call-command'] !== 'execute') return;
    this.enqueue(ch, {
      kind: 'app',
      app: headers['execute-app-name'] ?? '',
      arg: headers['execute-app-arg'] ?? '',
      eventUuid: headers['Event-UUID'] ?? randomUUID(),
    });
  }

  private runApp(ch: FakeChannel, work: Extract<Work, { kind: 'app' }>): void {
    this.commands.push(`execute ${work.app} ${work.arg}`.trim());
    if (work.app === 'set' || work.app === 'export') {
      const i = work.arg.indexOf('=');
      if (i > 0) ch.vars[work.arg.slice(0, i)] = work.arg.slice(i + 1);
    }
    const done = { 'Unique-ID': ch.uuid, Application: work.app, 'Application-UUID': work.eventUuid };
    if (work.app === 'hangup') {
      this.hangup(ch.uuid, work.arg || 'NORMAL_CLEARING');
      return;
    }
    this.emit('CHANNEL_EXECUTE_COMPLETE', done);
  }

  /** `show channels`: FreeSWITCH's CSV, a header line, one line per channel, then the count. */
  private showChannels(): string {
    const up = [...this.channels.values()].filter((c) => c.up);
    const rows = up.map(
      (c) => `${c.uuid},inbound,${new Date(c.createdAt).toISOString()},sofia/drachtio_mrf,CS_EXECUTE`,
    );
    return `uuid,direction,created,name,state\n${rows.map((r) => `${r}\n`).join('')}\n${up.length} total.\n`;
  }

  private dump(ch: FakeChannel): Record<string, string> {
    return {
      'Unique-ID': ch.uuid,
      'Channel-Unique-ID': ch.uuid,
      'Channel-State': ch.up ? 'CS_EXECUTE' : 'CS_HANGUP',
      variable_rtp_local_sdp_str: ch.localSdp,
      variable_switch_r_sdp: ch.remoteSdp,
      variable_local_media_ip: '127.0.0.1',
      variable_local_media_port: '20000',
      variable_remote_media_ip: /^c=IN IP4 (\S+)/m.exec(ch.remoteSdp)?.[1] ?? '',
      variable_remote_media_port: /^m=audio (\d+)/m.exec(ch.remoteSdp)?.[1] ?? '',
      variable_dtmf_type: 'rfc2833',
      ...Object.fromEntries(Object.entries(ch.vars).map(([k, v]) => [`variable_${k}`, v])),
    };
  }

  /** The outbound socket's first answer: the channel's data (fsmrf reads the uuid, SDPs, user agent). */
  private channelData(client: Client): void {
    const ch = this.channels.get(client.channel ?? '');
    if (!ch) return;
    const headers = {
      'Content-Type': 'command/reply',
      'Reply-Text': '+OK',
      'Event-Name': 'CHANNEL_DATA',
      ...this.dump(ch),
    };
    client.socket.write(
      `${Object.entries(headers)
        .map(([k, v]) => `${k}: ${k === 'Content-Type' ? v : encodeURIComponent(v)}`)
        .join('\n')}\n\n`,
    );
  }

  /** FreeSWITCH's drachtio_mrf profile gets fsmrf's INVITE: a channel, its answer, the outbound socket. */
  private async sipInvite(req: {
    callId: string;
    headers: Record<string, string>;
    sdp: string;
  }): Promise<MediaServerAnswer> {
    const offer = req.sdp;
    if (!/^m=audio /m.test(offer)) return { status: 488, reason: 'Not Acceptable Here' };
    const formats = /^m=audio \d+ \S+ ([\d ]+)/m.exec(offer)?.[1]?.split(' ') ?? [];
    const names = [...offer.matchAll(/^a=rtpmap:(\d+) ([^/\s]+)/gm)].map((m) => [m[1], m[2]?.toUpperCase()]);
    const takes = formats.some(
      (pt) => pt === '0' || pt === '8' || names.some(([n, name]) => n === pt && /^PCM[AU]$/.test(name ?? '')),
    );
    if (!takes) return { status: 488, reason: 'Not Acceptable Here' };
    const uuid = this.addChannel();
    const ch = this.channels.get(uuid)!;
    ch.remoteSdp = offer;
    ch.vars.sip_user_agent = req.headers['User-Agent'] ?? '';
    ch.vars.sip_call_id = req.callId;
    // The shipped dialplan's variables (media_timeout, recording, hold handling), as its extension sets them.
    Object.assign(ch.vars, DRACHTIO_MRF_VARS);
    ch.mediaTimeoutMs = Number(ch.vars.media_timeout) || 0;
    ch.localSdp = this.answerSdp(ch, offer);
    const target = /^([^:\s]+):(\d+)$/.exec(req.headers['X-esl-outbound'] ?? '');
    if (target) {
      const socket = connect({ host: target[1], port: Number(target[2]) });
      const client: Client = {
        socket,
        channel: uuid,
        authed: true,
        format: 'plain',
        events: new Set(),
        buffer: '',
      };
      ch.outbound = client;
      socket.on('connect', () => this.listen(client));
      socket.on('error', () => {});
    }
    await this.onInvite?.(uuid);
    return { status: 200, reason: 'OK', sdp: ch.localSdp, channel: uuid };
  }

  /** A re-INVITE in the channel's dialog: a new answer (o= version up), hold answered recvonly/inactive. */
  private sipReinvite(channel: string, sdp: string): MediaServerAnswer {
    const ch = this.channels.get(channel);
    if (!ch?.up) return { status: 481, reason: 'Call/Transaction Does Not Exist' };
    if (!/^m=audio /m.test(sdp)) return { status: 488, reason: 'Not Acceptable Here' };
    ch.remoteSdp = sdp;
    ch.sdpVersion += 1;
    ch.localSdp = this.answerSdp(ch, sdp);
    const holds = /^a=(sendonly|inactive)/m.test(sdp) || /^c=IN IP4 0\.0\.0\.0/m.test(sdp);
    if (ch.vars.rtp_disable_hold !== 'true') {
      // FreeSWITCH's hold (switch_core_media_toggle_hold): the leg stops being read, media_hold_timeout applies.
      if (holds && ch.protoHoldSince === null) ch.protoHoldSince = this.now();
      if (!holds && ch.protoHoldSince !== null) {
        ch.protoHeldMs += this.now() - ch.protoHoldSince;
        ch.protoHoldSince = null;
      }
      ch.mediaTimeoutMs = Number(ch.vars[holds ? 'media_hold_timeout' : 'media_timeout']) || 0;
    } else ch.mediaTimeoutMs = Number(ch.vars.media_timeout) || 0;
    return { status: 200, reason: 'OK', sdp: ch.localSdp };
  }

  private answerSdp(ch: FakeChannel, offer: string): string {
    const dir = /^a=(sendonly|recvonly|inactive|sendrecv)/m.exec(offer)?.[1] ?? 'sendrecv';
    const held = /^c=IN IP4 0\.0\.0\.0/m.test(offer);
    const answer =
      dir === 'sendonly' ? 'recvonly' : dir === 'recvonly' ? 'sendonly' : held ? 'inactive' : dir;
    return [
      'v=0',
      `o=FreeSWITCH 1700000000 ${ch.sdpVersion} IN IP4 127.0.0.1`,
      's=FreeSWITCH',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 20000 RTP/AVP 8 101',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      `a=${answer}`,
      '',
    ].join('\r\n');
  }

  private audioFork(ch: FakeChannel, args: string[]): string {
    const action = args[2];
    if (action === 'stop') {
      if (ch.fork) {
        ch.forkStopping = true;
        ch.fork.close();
        ch.fork = null;
      }
      return '+OK Success\n';
    }
    if (action === 'pause' || action === 'resume') {
      if (!ch.fork) return '-ERR Operation Failed\n';
      ch.forkPaused = action === 'pause';
      return '+OK Success\n';
    }
    if (action === 'send_text') {
      // The module splits its arguments on spaces and sends only the first token after send_text.
      if (!ch.fork || !args[3]) return '-ERR Operation Failed\n';
      ch.fork.send(args[3]);
      return '+OK Success\n';
    }
    if (action !== 'start') return '-USAGE: <uuid> [start | stop | send_text | pause | resume] ...\n';
    const [url = '', mix = '', rate = ''] = args.slice(3, 6);
    const metadata = args.slice(6).join(' ');
    if (!/^wss?:\/\//.test(url) || !['mono', 'mixed', 'stereo'].includes(mix) || !/^\d+k?$/.test(rate)) {
      return '-ERR Operation Failed\n';
    }
    const ws = new WebSocket(url, 'audio.drachtio.org');
    ch.fork = ws;
    ch.forkStopping = false;
    ws.on('open', () => {
      if (metadata) ws.send(metadata);
      this.custom('mod_audio_fork::connect', ch.uuid);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.onForkMessage(ch, data.toString());
    });
    ws.on('error', () => {
      if (ws.readyState !== WebSocket.OPEN) this.custom('mod_audio_fork::connect_failed', ch.uuid);
    });
    ws.on('close', (code) => {
      if (ch.fork === ws) ch.fork = null;
      if (ch.forkStopping || !ch.up) return;
      // The module reports a connection that broke (no close frame) as an error, then the disconnect.
      if (code === 1006) this.custom('mod_audio_fork::error', ch.uuid);
      this.custom('mod_audio_fork::disconnect', ch.uuid);
    });
    return '+OK Success\n';
  }

  private onForkMessage(ch: FakeChannel, text: string): void {
    this.forkEvent(ch, text);
    this.afterForkMessage?.(ch.uuid, text);
  }

  private forkEvent(ch: FakeChannel, text: string): void {
    this.forkMessages.push({ uuid: ch.uuid, text });
    let msg: { type?: string; data?: Record<string, unknown> };
    try {
      msg = JSON.parse(text);
    } catch {
      return; // the module logs "could not parse message" and drops it
    }
    if (msg.type === 'playAudio') {
      const data = msg.data ?? {};
      const file = join(this.opts.tmpDir, `${ch.uuid}-${this.played.length}-${randomUUID().slice(0, 8)}.r8`);
      writeFileSync(file, Buffer.from(String(data.audioContent ?? ''), 'base64'));
      const { audioContent: _omit, ...rest } = data;
      this.custom('mod_audio_fork::play_audio', ch.uuid, JSON.stringify({ ...rest, file }));
    } else if (msg.type === 'killAudio') {
      this.custom('mod_audio_fork::kill_audio', ch.uuid);
    } else if (
      msg.type === 'transfer' ||
      msg.type === 'disconnect' ||
      msg.type === 'error' ||
      msg.type === 'transcription'
    ) {
      // The module passes `data` on as the event body (none when the message had no data).
      this.custom(
        `mod_audio_fork::${msg.type}`,
        ch.uuid,
        msg.data === undefined ? undefined : JSON.stringify(msg.data),
      );
    } else if (msg.type === 'json') {
      this.custom('mod_audio_fork::json', ch.uuid, text);
    }
    // Any other type is logged and dropped by the module.
  }

  private originate(arg: string): string {
    const vars = /^\{([^}]*)\}/.exec(arg)?.[1] ?? '';
    const dial = arg.slice(vars ? vars.length + 2 : 0).split(' ')[0] ?? '';
    const uuid = /origination_uuid=([^,]+)/.exec(vars)?.[1] ?? randomUUID();
    const outcome = this.dialOutcomes.get(dial) ?? 'NO_ROUTE_DESTINATION';
    if (outcome !== 'answer') return `-ERR ${outcome}\n`;
    this.addChannel(uuid);
    // `&eavesdrop(<uuid>)`: the answered leg listens to that channel; with nothing to listen to, the
    // application returns at once and the leg hangs up (originate has answered +OK all the same).
    const eavesdrop = /&eavesdrop\(([^)]*)\)/.exec(arg)?.[1];
    if (eavesdrop !== undefined) {
      const target = this.channels.get(eavesdrop);
      if (target?.up) this.channels.get(uuid)!.eavesdropOn = eavesdrop;
      else setImmediate(() => this.hangup(uuid));
    }
    return `+OK ${uuid}\n`;
  }
}

/**
 * Stand-ins for the prompt WAVs telephony synthesizes at start (telephony/prompts.ts): 100 ms of silence each,
 * enough for the fake channel to "play" them and for tests to see which one a caller was played.
 */
export function silentPromptFiles(dir: string): Required<PromptFiles> {
  const files = {} as Required<PromptFiles>;
  for (const id of Object.keys(defaultPromptTexts) as TelephonyPromptId[]) {
    files[id] = join(dir, `${id}.wav`);
    writeFileSync(files[id], encodeWav({ samples: new Int16Array(800), sampleRate: 8000 }));
  }
  return files;
}
