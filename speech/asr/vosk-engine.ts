import { OtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { AsrEngine, AsrOptions, AsrResult, AsrStream, AsrWord, EngineState } from '../types.js';
import {
  callAsync,
  loadVoskLibrary,
  type VoskLibrary,
  type VoskModelHandle,
  type VoskRecognizerHandle,
} from './vosk-library.js';
import { checkVoskModelDir, type VoskModelDirState } from './vosk-model-dir.js';

/**
 * Vosk (Kaldi) streaming recognizer: one model per engine, one recognizer per stream. Decoding runs on
 * koffi's worker thread; calls on one recognizer are serialized, and the recognizer is freed only after
 * the call in flight returns, so closing a stream mid-decode never frees memory that Kaldi still uses.
 */

export interface VoskEngineOptions {
  modelPath: string;
  /** libvosk.so to load (config.speech.voskLibraryPath); unset: the npm `vosk` package's. */
  libraryPath?: string;
  log: Logger;
  /** Byte sizes of the model's files when it is a manifest model (see models/manifest.json). */
  expectedSizes?: Record<string, number>;
}

export interface VoskAsrEngine extends AsrEngine {
  /** Loads the model now instead of on the first stream (a service warms up at start). */
  load(): Promise<void>;
  /** Recognizers currently allocated. */
  activeStreams(): number;
  close(): void;
}

interface VoskJsonWord {
  word: string;
  start: number;
  end: number;
  conf: number;
}

interface VoskJsonResult {
  text?: string;
  partial?: string;
  result?: VoskJsonWord[];
}

const MIN_RATE = 8000;
const UNKNOWN_WORD = '[unk]';
const MAX_RATE = 48000;

function toWords(words: VoskJsonWord[] | undefined): AsrWord[] {
  return (words ?? []).map((w) => ({
    word: w.word,
    startMs: Math.round(w.start * 1000),
    endMs: Math.round(w.end * 1000),
    confidence: w.conf,
  }));
}

export function parseVoskResult(json: string, final: boolean): AsrResult {
  let parsed: VoskJsonResult;
  try {
    parsed = JSON.parse(json) as VoskJsonResult;
  } catch (err) {
    throw new OtklikError('ENGINE_FAILED', `vosk returned malformed JSON: ${json.slice(0, 80)}`, {
      cause: err,
    });
  }
  // A grammar recognizer says [unk] for speech outside its phrases; callers get no text for it, not a token.
  const words = toWords(parsed.result).filter((w) => w.word !== UNKNOWN_WORD);
  const text = ((final ? parsed.text : parsed.partial) ?? '')
    .split(/\s+/)
    .filter((w) => w && w !== UNKNOWN_WORD)
    .join(' ');
  // Vosk scores words, not utterances; the mean word confidence is what callers compare against thresholds.
  // A partial has no scores yet, so it reports 0 rather than a made-up value.
  const confidence = words.length > 0 ? words.reduce((s, w) => s + w.confidence, 0) / words.length : 0;
  return { text, final, confidence: final ? confidence : 0, words };
}

/**
 * The grammar a stream's recognizer is restricted to, or null for open recognition. Vosk cannot bias an
 * open recognizer towards words: its only tool is a closed grammar, in which speech outside the phrases
 * comes out as [unk] (no text). So `hints` (the KB vocabulary, words to favour) are not used: as a grammar
 * they would make every other question of a caller unrecognizable. Only an explicit `grammar` (closed
 * choices) restricts the recognizer, and only on a model with a dynamic graph (the small models).
 */
export function recognizerGrammar(
  opts: Pick<AsrOptions, 'hints' | 'grammar'>,
  model: { dynamicGraph: boolean; known: (word: string) => boolean },
): string | null {
  if (!opts.grammar?.length || !model.dynamicGraph) return null;
  return voskGrammar(opts.grammar, model.known);
}

/**
 * The JSON grammar Vosk takes for a closed set of phrases: lower-case words the model knows (ё written as
 * е where the model only has that), phrases with an unknown word left out; null when none is left.
 */
export function voskGrammar(phrases: string[], known: (word: string) => boolean): string | null {
  const out: string[] = [];
  for (const phrase of phrases) {
    const words = phrase
      .toLowerCase()
      .split(/[^\p{L}\p{N}-]+/u)
      .filter(Boolean);
    const mapped = words.map((w) =>
      known(w) ? w : known(w.replace(/ё/g, 'е')) ? w.replace(/ё/g, 'е') : null,
    );
    if (mapped.length > 0 && mapped.every((w) => w !== null)) out.push(mapped.join(' '));
  }
  if (out.length === 0) return null;
  // [unk] lets speech outside the phrases come out as unknown instead of being forced onto one of them.
  return JSON.stringify([...new Set(out), UNKNOWN_WORD]);
}

function stateOf(dir: VoskModelDirState): EngineState {
  if (dir.status === 'missing') return { status: 'model_missing', message: dir.message };
  if (dir.status === 'broken') return { status: 'failed', message: dir.message };
  return { status: 'ready' };
}

export function createVoskEngine(opts: VoskEngineOptions): VoskAsrEngine {
  const log = opts.log.child({ engine: 'vosk' });
  let lib: VoskLibrary | undefined;
  let libError: string | undefined;
  try {
    lib = loadVoskLibrary(opts.libraryPath);
    lib.setLogLevel(-1);
  } catch (err) {
    libError = (err as Error).message;
  }
  let dir = checkVoskModelDir(opts.modelPath, opts.expectedSizes);
  let model: Promise<VoskModelHandle> | undefined;
  let loadError: string | undefined;
  let active = 0;
  let closed = false;

  function state(): EngineState {
    if (libError) return { status: 'failed', message: libError };
    if (loadError) return { status: 'failed', message: loadError };
    // A model installed while the service runs becomes ready without a restart.
    if (dir.status !== 'ok') dir = checkVoskModelDir(opts.modelPath, opts.expectedSizes);
    return stateOf(dir);
  }

  function assertUsable(): VoskLibrary {
    // The folder may have been installed since start (`otklik models fetch` while the service runs).
    if (dir.status !== 'ok') dir = checkVoskModelDir(opts.modelPath, opts.expectedSizes);
    if (libError || !lib) throw new OtklikError('ENGINE_FAILED', libError ?? 'libvosk is not loaded');
    if (dir.status === 'missing') throw new OtklikError('MODEL_MISSING', dir.message);
    if (dir.status === 'broken') throw new OtklikError('MODEL_BROKEN', dir.message);
    if (loadError) throw new OtklikError('MODEL_BROKEN', loadError);
    if (closed) throw new OtklikError('UNAVAILABLE', 'the ASR engine is closed');
    return lib;
  }

  function loadModel(): Promise<VoskModelHandle> {
    const l = assertUsable();
    model ??= (async () => {
      const started = Date.now();
      const handle = await callAsync(l.modelNew, dir.dir);
      if (!handle) {
        loadError = `vosk could not load the model at ${dir.dir}: reinstall it with \`otklik models fetch vosk-model-small-ru-0.22 --force\``;
        model = undefined;
        throw new OtklikError('MODEL_BROKEN', loadError);
      }
      log.info({ dir: dir.dir, loadMs: Date.now() - started }, 'vosk model loaded');
      return handle;
    })();
    return model;
  }

  async function createStream(streamOpts: AsrOptions): Promise<AsrStream> {
    const rate = streamOpts.sampleRate;
    if (!Number.isInteger(rate) || rate < MIN_RATE || rate > MAX_RATE) {
      throw new OtklikError(
        'VALIDATION_FAILED',
        `sample rate must be an integer ${MIN_RATE}..${MAX_RATE} Hz, got ${rate}`,
      );
    }
    const handle = await loadModel();
    const l = lib!;
    const grammar = recognizerGrammar(streamOpts, {
      dynamicGraph: dir.status === 'ok' && dir.dynamicGraph,
      known: (word) => l.modelFindWord(handle, word) >= 0,
    });
    const rec = grammar ? l.recognizerNewGrm(handle, rate, grammar) : l.recognizerNew(handle, rate);
    if (!rec) throw new OtklikError('ENGINE_FAILED', 'vosk could not create a recognizer');
    l.recognizerSetWords(rec, 1);
    active++;
    return createVoskStream(l, rec, () => active--);
  }

  return {
    name: 'vosk',
    state,
    createStream,
    async load() {
      await loadModel();
    },
    activeStreams: () => active,
    close() {
      closed = true;
      const pending = model;
      model = undefined;
      // Recognizers hold a reference on the model, so freeing it here is safe while streams finish.
      pending?.then((h) => lib?.modelFree(h)).catch(() => {});
    },
  };
}

function createVoskStream(l: VoskLibrary, rec: VoskRecognizerHandle, onFreed: () => void): AsrStream {
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  let freed = false;
  let lastPartial = '';

  function enqueue<T>(work: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new OtklikError('CANCELLED', 'the ASR stream is closed'));
    const next = queue.then(work);
    queue = next.catch(() => {});
    return next;
  }

  return {
    push(audio) {
      // Copy: the caller may reuse its buffer while the worker thread is still reading this one.
      const samples = Int16Array.from(audio);
      return enqueue(async () => {
        const ended = await callAsync(l.acceptWaveformS, rec, samples, samples.length);
        if (ended < 0) throw new OtklikError('ENGINE_FAILED', 'vosk rejected the audio');
        if (ended === 1) {
          lastPartial = '';
          return parseVoskResult(l.result(rec), true);
        }
        const partial = parseVoskResult(l.partialResult(rec), false);
        if (partial.text === '' || partial.text === lastPartial) return null;
        lastPartial = partial.text;
        return partial;
      });
    },
    finish() {
      return enqueue(async () => {
        lastPartial = '';
        return parseVoskResult(await callAsync(l.finalResult, rec), true);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      void queue.finally(() => {
        if (freed) return;
        freed = true;
        l.recognizerFree(rec);
        onFreed();
      });
    },
  };
}
