/**
 * One voice-bot node for bench/voice-load.ts, in its own process so that its CPU and memory are its own:
 * the media socket (mod_audio_fork's framing) with real-time play-out, a session per call on the real
 * pipeline (Silero VAD on every caller frame, NLU, flow, KB, turn records in the shared store, espeak-ng
 * behind the TTS cache as `otklik serve` builds it). No Russian ASR model can be installed here, so the
 * caller's words arrive as injected final transcripts; everything after recognition is real.
 *
 * Started with IPC by the benchmark: it answers {type:'stats'} with its CPU and memory, and stops on
 * {type:'stop'}. Its first message is {type:'ready', port}.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/log.js';
import { createAsrEngine } from '../../speech/asr/index.js';
import { createTtsEngine } from '../../speech/tts/index.js';
import type { SpeechServices } from '../../speech/types.js';
import { createVadEngine } from '../../speech/vad/index.js';
import { openSql } from '../../store/sql.js';
import { startMediaSocket } from '../../voicebot/channels/media/server.js';
import { openDialogKnowledge } from '../../voicebot/dialog-knowledge.js';
import { CallSession } from '../../voicebot/session.js';

const { BENCH_DB_URL, BENCH_DB_SCHEMA, BENCH_SECRET, BENCH_MODEL_DIR, BENCH_AT, BENCH_TTS_DIR } = process.env;
if (!BENCH_SECRET || !BENCH_MODEL_DIR || !BENCH_AT) {
  process.stderr.write('voice-node: started without BENCH_SECRET, BENCH_MODEL_DIR and BENCH_AT\n');
  process.exit(2);
}
const at = Date.parse(BENCH_AT);
const sql = BENCH_DB_URL
  ? await openSql({ url: BENCH_DB_URL, ...(BENCH_DB_SCHEMA ? { schema: BENCH_DB_SCHEMA } : {}) })
  : await openSql({ dataDir: 'memory://' });
if (!BENCH_DB_URL) {
  const { migrate } = await import('../../store/migrate.js');
  const { allSchemas } = await import('../../cli/schema.js');
  await migrate(sql, allSchemas);
}
const knowledge = await openDialogKnowledge(sql, silentLogger, { modelDir: BENCH_MODEL_DIR });
const config = loadConfig({ VOSK_MODEL_PATH: '/nonexistent/vosk-model' });
const asr = createAsrEngine(config.speech, silentLogger);
const tts = createTtsEngine(config.speech, silentLogger, {
  dataDir: BENCH_TTS_DIR ?? mkdtempSync(join(tmpdir(), 'otklik-bench-node-')),
});
const speech: SpeechServices = { vad: createVadEngine(), asr, tts, close: async () => asr.close() };

let sessions = 0;
const socket = await startMediaSocket({
  port: 0,
  auth: { secret: BENCH_SECRET, loopbackOnly: true },
  onCall: (leg) => {
    const started = performance.now();
    sessions++;
    const session = new CallSession(leg, {
      kb: knowledge.kb,
      nlu: knowledge.nlu,
      sql,
      log: silentLogger,
      speech,
      mode: 'voice',
      // Working hours of a weekday, whatever the machine's clock says: the same flow on every run.
      now: () => new Date(at + (performance.now() - started)),
    });
    return session.run().finally(() => {
      sessions--;
    });
  },
});

process.on('message', (msg: { type?: string }) => {
  if (msg.type === 'stats') {
    const cpu = process.cpuUsage();
    process.send?.({
      type: 'stats',
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssBytes: process.memoryUsage().rss,
      sessions,
    });
  } else if (msg.type === 'stop') {
    void (async () => {
      await socket.close();
      await speech.close();
      await tts.close();
      await knowledge.close();
      await sql.close();
      process.exit(0);
    })();
  }
});
process.send?.({ type: 'ready', port: socket.port });
