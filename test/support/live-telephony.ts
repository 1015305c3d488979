import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';

/**
 * What the live telephony suites share (test/telephony-live.test.ts, test/telephony-live-peers.test.ts): where
 * drachtio-server, FreeSWITCH and the sipps are, why a suite is skipped, and sipp run without blocking the
 * event loop (the telephony app and the bot run in the test's process).
 */
export const live = {
  drachtioHost: process.env.DRACHTIO_HOST ?? '127.0.0.1',
  drachtioPort: Number(process.env.DRACHTIO_PORT ?? 9022),
  fsHost: process.env.FREESWITCH_HOST ?? '127.0.0.1',
  fsPort: Number(process.env.FREESWITCH_PORT ?? 8021),
  fsSecret: process.env.FREESWITCH_SECRET ?? 'ClueCon',
  sipPort: Number(process.env.DRACHTIO_SIP_PORT ?? 5060),
  /** Where the sipps listen; FreeSWITCH must reach this address (SIPP_IP where FreeSWITCH runs elsewhere). */
  sippIp: process.env.SIPP_IP ?? '127.0.0.1',
};

export function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Why the live suites cannot run here, or false. */
export async function liveSkipReason(): Promise<string | false> {
  if (spawnSync('sipp', ['-v']).error) return 'sipp is not installed (Debian package sip-tester)';
  if (spawnSync('espeak-ng', ['--version']).error) return 'espeak-ng is not installed';
  if (!(await reachable(live.drachtioHost, live.drachtioPort))) {
    return `drachtio-server is not reachable at ${live.drachtioHost}:${live.drachtioPort} (set DRACHTIO_HOST)`;
  }
  if (!(await reachable(live.fsHost, live.fsPort)))
    return `FreeSWITCH event socket is not reachable at ${live.fsHost}:${live.fsPort}`;
  return false;
}

export interface Sipp {
  proc: ChildProcess;
  exit: Promise<{ code: number | null; output: string }>;
}

/** Runs sipp without blocking the event loop. */
export function sipp(args: string[]): Sipp {
  const proc = spawn('sipp', [...args, '-nostdin'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => {
    output = (output + d.toString('utf8')).slice(-20_000);
  });
  proc.stderr?.on('data', (d: Buffer) => {
    output = (output + d.toString('utf8')).slice(-20_000);
  });
  const exit = new Promise<{ code: number | null; output: string }>((resolve) => {
    proc.on('exit', (code) => resolve({ code, output }));
  });
  return { proc, exit };
}

/** Waits for a sipp to finish and asserts it succeeded (every call of its scenario). */
export async function waitExit(s: Sipp, what: string, timeoutMs = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<{ code: number | null; output: string }>((resolve) => {
    timer = setTimeout(() => {
      s.proc.kill();
      resolve({ code: null, output: 'killed: did not finish in time' });
    }, timeoutMs);
  });
  const r = await Promise.race([s.exit, timeUp]);
  clearTimeout(timer);
  assert.equal(r.code, 0, `${what} failed:\n${r.output}`);
}

/** A scenario file of telephony/testing/sipp/. */
export const scenario = (name: string): string =>
  new URL(`../../telephony/testing/sipp/${name}`, import.meta.url).pathname;
