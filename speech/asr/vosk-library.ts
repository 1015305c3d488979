import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi from 'koffi';
import { OtklikError } from '../../core/errors.js';

/**
 * libvosk.so bound through koffi. The npm `vosk` package ships the library but binds it with ffi-napi,
 * which does not build on current Node, so we only borrow its binary and declare the C API here.
 */

/** Opaque handles; only ever passed back to libvosk. */
export type VoskModelHandle = object;
export type VoskRecognizerHandle = object;

type AsyncFn<A extends unknown[], R> = ((...args: A) => R) & {
  async(...args: [...A, (err: unknown, result: R) => void]): void;
};

export interface VoskLibrary {
  path: string;
  setLogLevel(level: number): void;
  modelNew: AsyncFn<[string], VoskModelHandle | null>;
  modelFree(model: VoskModelHandle): void;
  /** Index of a word in the model's vocabulary, -1 when the model does not know it. */
  modelFindWord(model: VoskModelHandle, word: string): number;
  recognizerNew(model: VoskModelHandle, sampleRate: number): VoskRecognizerHandle | null;
  recognizerNewGrm(
    model: VoskModelHandle,
    sampleRate: number,
    grammarJson: string,
  ): VoskRecognizerHandle | null;
  recognizerSetWords(rec: VoskRecognizerHandle, on: number): void;
  recognizerSetPartialWords(rec: VoskRecognizerHandle, on: number): void;
  /** 1 when an utterance ended (call result()), 0 to keep feeding, -1 on error. */
  acceptWaveformS: AsyncFn<[VoskRecognizerHandle, Int16Array, number], number>;
  result(rec: VoskRecognizerHandle): string;
  partialResult(rec: VoskRecognizerHandle): string;
  finalResult: AsyncFn<[VoskRecognizerHandle], string>;
  recognizerFree(rec: VoskRecognizerHandle): void;
}

let cached: VoskLibrary | undefined;

/**
 * The libvosk.so to load: the configured one (config.speech.voskLibraryPath, VOSK_LIBRARY_PATH), else the
 * one the npm `vosk` package ships, resolved at run time (no hard-coded checkout path).
 */
export function voskLibraryPath(configured?: string): string {
  if (configured) return configured;
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('vosk/package.json'));
  return join(pkgDir, 'lib', 'linux-x86_64', 'libvosk.so');
}

/**
 * Loads libvosk.so once per process (its C types are declared once). Throws ENGINE_FAILED when the library
 * cannot be loaded, or when another one is already loaded.
 */
export function loadVoskLibrary(libraryPath?: string): VoskLibrary {
  const path = voskLibraryPath(libraryPath);
  if (cached) {
    if (cached.path === path) return cached;
    throw new OtklikError('ENGINE_FAILED', `libvosk is already loaded from ${cached.path}, not ${path}`);
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new OtklikError(
      'ENGINE_FAILED',
      `libvosk is shipped for linux-x64 only (this is ${process.platform}-${process.arch})`,
    );
  }
  if (!existsSync(path))
    throw new OtklikError('ENGINE_FAILED', `libvosk.so not found at ${path} (npm package vosk)`);
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(path);
  } catch (err) {
    throw new OtklikError('ENGINE_FAILED', `cannot load ${path}: ${(err as Error).message}`, { cause: err });
  }
  koffi.opaque('VoskModel');
  koffi.opaque('VoskRecognizer');
  const f = (decl: string) => lib.func(decl) as never;
  cached = {
    path,
    setLogLevel: f('void vosk_set_log_level(int log_level)'),
    modelNew: f('VoskModel *vosk_model_new(const char *model_path)'),
    modelFree: f('void vosk_model_free(VoskModel *model)'),
    modelFindWord: f('int vosk_model_find_word(VoskModel *model, const char *word)'),
    recognizerNew: f('VoskRecognizer *vosk_recognizer_new(VoskModel *model, float sample_rate)'),
    recognizerNewGrm: f(
      'VoskRecognizer *vosk_recognizer_new_grm(VoskModel *model, float sample_rate, const char *grammar)',
    ),
    recognizerSetWords: f('void vosk_recognizer_set_words(VoskRecognizer *recognizer, int words)'),
    recognizerSetPartialWords: f(
      'void vosk_recognizer_set_partial_words(VoskRecognizer *recognizer, int partial_words)',
    ),
    acceptWaveformS: f(
      'int vosk_recognizer_accept_waveform_s(VoskRecognizer *recognizer, const int16_t *data, int length)',
    ),
    result: f('const char *vosk_recognizer_result(VoskRecognizer *recognizer)'),
    partialResult: f('const char *vosk_recognizer_partial_result(VoskRecognizer *recognizer)'),
    finalResult: f('const char *vosk_recognizer_final_result(VoskRecognizer *recognizer)'),
    recognizerFree: f('void vosk_recognizer_free(VoskRecognizer *recognizer)'),
  };
  return cached;
}

/** Runs a koffi function on its worker thread so decoding never blocks the event loop. */
export function callAsync<A extends unknown[], R>(fn: AsyncFn<A, R>, ...args: A): Promise<R> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, result: R) => (err ? reject(err) : resolve(result)));
  });
}
