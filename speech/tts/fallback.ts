import { isOtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { EngineState, TtsChunk, TtsEngine, TtsOptions, TtsVoice } from '../types.js';
import { speechPieces } from './streaming.js';

/**
 * The configured engine with espeak-ng behind it: when the preferred engine is not installed, or fails on a
 * request, the caller still hears the answer (in the fallback voice) instead of silence. state() stays
 * 'ready' with a message saying which engine speaks instead, so health checks show the degradation.
 */
export class FallbackTtsEngine implements TtsEngine {
  constructor(
    readonly primary: TtsEngine,
    readonly fallback: TtsEngine,
    private readonly log?: Logger,
  ) {}

  /** The engine that speaks now. */
  get name(): string {
    return this.primaryReady() ? this.primary.name : this.fallback.name;
  }

  state(): EngineState {
    const primary = this.primary.state();
    if (primary.status === 'ready') return primary;
    const fallback = this.fallback.state();
    if (fallback.status !== 'ready') return primary;
    return {
      status: 'ready',
      message: `${this.primary.name} unavailable (${primary.message}); speaking with ${this.fallback.name}`,
    };
  }

  async voices(): Promise<TtsVoice[]> {
    const lists = await Promise.all([
      this.primary.voices().catch(() => []),
      this.fallback.voices().catch(() => []),
    ]);
    return lists.flat();
  }

  async *synthesize(text: string, opts: TtsOptions = {}): AsyncIterable<TtsChunk> {
    // Voice ids belong to one engine: the fallback speaks in its own default voice.
    const fallbackOpts: TtsOptions = { ...opts, voice: undefined };
    if (!this.primaryReady()) {
      yield* this.fallback.synthesize(text, fallbackOpts);
      return;
    }
    let spoken = 0;
    try {
      for await (const chunk of this.primary.synthesize(text, opts)) {
        spoken++;
        yield chunk;
      }
    } catch (err) {
      if (isOtklikError(err, 'CANCELLED') || opts.signal?.aborted) throw err;
      this.log?.warn(
        { err, engine: this.primary.name, fallback: this.fallback.name },
        'TTS engine failed; the fallback engine speaks instead',
      );
      // Say what is left, already normalized, so the caller does not hear the beginning twice.
      const rest = speechPieces(text).slice(spoken);
      if (rest.length === 0) return;
      yield* this.fallback.synthesize(rest.join(' '), { ...fallbackOpts, raw: true } as TtsOptions);
    }
  }

  private primaryReady(): boolean {
    return this.primary.state().status === 'ready';
  }
}
