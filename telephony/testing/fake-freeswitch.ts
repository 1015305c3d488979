import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { encodeWav } from '../../media/audio/wav.js';
import { defaultPromptTexts, type PromptFiles, type TelephonyPromptId } from '../prompts.js';

/**
 * A stand-in for FreeSWITCH at the one edge CI cannot run: its inbound event socket, speaking the ESL text
 * protocol (auth/request, `auth`, `event json|plain`, `api`, `bgapi` with BACKGROUND_JOB, `filter`, `exit`),
 * with channels that react to the API commands the adapter uses the way FreeSWITCH does: uuid_broadcast emits
 * PLAYBACK_START/STOP, uuid_break stops playback, uuid_record writes a WAV file, uuid_kill hangs up, and
 * uuid_audio_fork opens a real WebSocket to the given URL speaking mod_audio_fork's protocol (metadata text
 * frame, L16 binary frames; playAudio/killAudio/transfer messages back become mod_audio_fork::* events; a
 * dropped socket becomes mod_audio_fork::disconnect). The real drachtio-modesl/fsmrf code talks to it.
 */
export type DialOutcome = 'answer' | 'USER_BUSY' | 'NO_ANSWER' | 'CALL_REJECTED' | 'NO_ROUTE_DESTINATION';

interface FakeChannel {
  uuid: string;
  playing: string | null;
  /** Files broadcast while another plays: FreeSWITCH plays them in order. */
  queued: string[];
  playTimer: NodeJS.Timeout | null;
  recording: string | null;
  fork: WebSocket | null;
  forkStopping: boolean;
  bridgedTo: string | null;
  vars: Record<string, string>;
  up: boolean;
}

interface Client {
  socket: Socket;
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
}

export class FakeFreeswitch {
  readonly commands: string[] = [];
  readonly played: { uuid: string; file: string }[] = [];
  readonly forkMessages: { uuid: string; text: string }[] = [];
  readonly channels = new Map<string, FakeChannel>();
  readonly dialOutcomes = new Map<string, DialOutcome>();
  private readonly clients = new Set<Client>();
  private server: Server | null = null;
  port = 0;

  constructor(private readonly opts: FakeFreeswitchOptions) {
    mkdirSync(opts.tmpDir, { recursive: true });
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
      queued: [],
      playTimer: null,
      recording: null,
      fork: null,
      forkStopping: false,
      bridgedTo: null,
      vars: {},
      up: true,
    });
    return uuid;
  }

  /** The caller presses a key (RFC 2833). */
  dtmf(uuid: string, digit: string): void {
    this.emit('DTMF', { 'Unique-ID': uuid, 'DTMF-Digit': digit, 'DTMF-Duration': '1600' });
  }

  /** The caller (or the far end) hangs up. */
  hangup(uuid: string, cause = 'NORMAL_CLEARING'): void {
    const ch = this.channels.get(uuid);
    if (!ch?.up) return;
    this.dropChannel(ch);
    this.emit('CHANNEL_HANGUP_COMPLETE', { 'Unique-ID': uuid, 'Hangup-Cause': cause });
    if (ch.bridgedTo) this.hangup(ch.bridgedTo, cause);
  }

  /** Sends caller audio over the channel's audio fork, as binary L16 frames. */
  sendForkAudio(uuid: string, samples: Int16Array): void {
    const ws = this.channels.get(uuid)?.fork;
    if (ws?.readyState === WebSocket.OPEN)
      ws.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  }

  private dropChannel(ch: FakeChannel): void {
    ch.up = false;
    if (ch.playTimer) clearTimeout(ch.playTimer);
    if (ch.fork) {
      ch.forkStopping = true;
      ch.fork.close();
    }
  }

  private accept(socket: Socket): void {
    const client: Client = { socket, authed: false, format: 'plain', events: new Set(), buffer: '' };
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
    socket.write('Content-Type: auth/request\n\n');
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
    if (verb === 'event') {
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
    const needChannel = name.startsWith('uuid_') && name !== 'uuid_exists';
    if (needChannel && !ch?.up) return '-ERR No such channel!\n';
    switch (name) {
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
        this.stopPlayback(ch!, 'break');
        return '+OK\n';
      case 'uuid_kill':
        this.hangup(uuid, args[2] ?? 'NORMAL_CLEARING');
        return '+OK\n';
      case 'uuid_bridge': {
        const other = this.channels.get(args[2] ?? '');
        if (!other?.up) return '-ERR Invalid uuid\n';
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
      // FreeSWITCH writes the stereo WAV as the call goes; a second of audio stands in for it.
      const stereo = ch.vars.RECORD_STEREO === 'true' ? 2 : 1;
      const samples = new Int16Array(8000 * stereo).map((_, i) => Math.round(Math.sin(i / 5) * 3000));
      writeFileSync(path, encodeWav({ samples, sampleRate: 8000 }, stereo));
      return '+OK Success\n';
    }
    if (action === 'stop') {
      ch.recording = null;
      return '+OK Success\n';
    }
    return '-ERR unknown action\n';
  }

  private broadcast(ch: FakeChannel, path: string): string {
    ch.queued.push(path);
    if (!ch.playing) this.playNext(ch);
    return '+OK Message queued\n';
  }

  private playNext(ch: FakeChannel): void {
    const path = ch.queued.shift();
    if (!path || !ch.up) return;
    ch.playing = path;
    this.played.push({ uuid: ch.uuid, file: path });
    setImmediate(() => this.emit('PLAYBACK_START', { 'Unique-ID': ch.uuid, 'Playback-File-Path': path }));
    ch.playTimer = setTimeout(() => {
      this.stopPlayback(ch, 'done');
      this.playNext(ch);
    }, this.opts.playbackMs ?? 20);
  }

  /** `uuid_break <uuid> all`: stops the current file and drops the queued ones (they never start). */
  private stopPlayback(ch: FakeChannel, status: 'done' | 'break'): void {
    if (status === 'break') ch.queued = [];
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
    ws.on('close', () => {
      if (ch.fork === ws) ch.fork = null;
      if (!ch.forkStopping && ch.up) this.custom('mod_audio_fork::disconnect', ch.uuid);
    });
    return '+OK Success\n';
  }

  private onForkMessage(ch: FakeChannel, text: string): void {
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
