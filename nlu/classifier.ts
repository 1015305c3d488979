import { decide, type Thresholds } from './calibrate.js';
import { findEmergencyCue } from './emergency.js';
import { extractEntities, type GazetteerEntry } from './entities/index.js';
import { rawFeatures, type Vectorizer, vectorize } from './features.js';
import { linearScores, softmax } from './linear.js';
import { normalize } from './normalize.js';
import type { TrainedModel } from './train.js';
import type { Classification, ClassifyContext, IntentClassifier, IntentScore } from './types.js';

/**
 * The runtime classifier over a trained model: normalization, calibrated probabilities, the reject and
 * confirmation decision, the confirmation-context restriction, entities and the emergency cue.
 */

export const OUT_OF_SCOPE = 'out_of_scope';
export const EMERGENCY = 'emergency';
const YES = 'dialog.yes';
const NO = 'dialog.no';

/**
 * With the classifier's emergency probability at least this (and no cue), an emergency is suspected (recall
 * first): the engine asks «Вам нужна экстренная помощь?» rather than deciding on a guess.
 */
const EMERGENCY_PROBABILITY = 0.35;
/** A call for help with nothing else understood («помогите», «спасите»): suspected, never decided. */
const helpCue = /(?<=^|\s)(помогите|помоги|спасите|помощь|срочно|беда|караул)(?=\s|$)/;
/** Below this share of known character n-grams and with no known word, the text is gibberish to the model. */
const MIN_CHAR_COVERAGE = 0.5;

const yesStarts = new Set([
  'да',
  'ага',
  'угу',
  'конечно',
  'верно',
  'правильно',
  'точно',
  'именно',
  'хорошо',
  'согласен',
  'согласна',
  'давайте',
  'подтверждаю',
  'так',
]);
const noStarts = new Set(['нет', 'неправильно', 'неверно', 'отмена', 'нету', 'никак']);
const noPhrases =
  /(?<=^|\s)(не то|не так|не надо|не нужно|не правильно|не верно|не совсем|не это|нет)(?=\s|$)/;

export interface ClassifierOptions {
  /** Labels `intent` may take; anything else becomes out_of_scope (the contract's intent ids). */
  allowedIntents?: ReadonlySet<string>;
  gazetteer?: GazetteerEntry[];
  /** The KB region's time zone (KnowledgeBase.timezone) for relative dates; the NLU service passes it. */
  timeZone?: string;
}

export interface Scored {
  normalized: string;
  /** Calibrated probabilities in model.labels order. */
  probs: Float64Array;
  /** False when the text shares (almost) nothing with the training data. */
  known: boolean;
}

export function scoreText(model: TrainedModel, vectorizer: Vectorizer, text: string): Scored {
  const normalized = normalize(text);
  const x = vectorize(vectorizer, normalized);
  const probs = softmax(linearScores(model.linear, x), model.temperature);
  const [words, , chars] = rawFeatures(normalized, model.featureOptions);
  let knownWord = false;
  for (const key of words!.keys()) if (key !== 'w:#' && model.vocabulary.has(key)) knownWord = true;
  let charTotal = 0;
  let charKnown = 0;
  for (const key of chars!.keys()) {
    charTotal++;
    if (model.vocabulary.has(key)) charKnown++;
  }
  const known = knownWord || (charTotal > 0 && charKnown / charTotal >= MIN_CHAR_COVERAGE);
  return { normalized, probs, known };
}

function ranked(labels: string[], probs: Float64Array, allowed?: ReadonlySet<string>): IntentScore[] {
  return labels
    .map((intent, i) => ({ intent, confidence: probs[i]! }))
    .filter((s) => !allowed || allowed.has(s.intent))
    .sort((a, b) => b.confidence - a.confidence || a.intent.localeCompare(b.intent));
}

/** The label the model decides on, as classify would without context: eval uses exactly this. */
export function decideLabel(model: TrainedModel, scored: Scored): { label: string; top: IntentScore[] } {
  const top = ranked(model.labels, scored.probs);
  if (model.labels.includes(EMERGENCY) && isEmergency(scored, top)) return { label: EMERGENCY, top };
  const best = top[0]!;
  const second = top[1]?.confidence ?? 0;
  if (
    model.rejectLabel &&
    (!scored.known || decide(best.confidence, second, model.thresholds) === 'reject')
  ) {
    return { label: model.rejectLabel, top };
  }
  return { label: best.intent, top };
}

/** The cue or the model's emergency probability (eval's emergency label: asking counts as recalled). */
function isEmergency(scored: Scored, full: IntentScore[]): boolean {
  const probability = full.find((s) => s.intent === EMERGENCY)?.confidence ?? 0;
  return (
    findEmergencyCue(scored.normalized) !== null || (scored.known && probability >= EMERGENCY_PROBABILITY)
  );
}

/**
 * A confident emergency: a cue of danger to life, or the model sure of it (emergency on top and accepted by
 * the calibrated thresholds). Anything less is only suspected.
 */
function isConfidentEmergency(
  scored: Scored,
  full: IntentScore[],
  thresholds: Thresholds,
  rescore: (normalized: string) => IntentScore[],
): boolean {
  if (findEmergencyCue(scored.normalized) !== null) return true;
  const sure = (s: IntentScore[]) =>
    s[0]?.intent === EMERGENCY && decide(s[0].confidence, s[1]?.confidence ?? 0, thresholds) === 'accept';
  if (!scored.known || !sure(full)) return false;
  // «помогите» says that help is needed, not what happened: the rest of the words must show the danger.
  if (!helpCue.test(scored.normalized)) return true;
  const rest = scored.normalized
    .split(' ')
    .filter((w) => !helpCue.test(w))
    .join(' ');
  return rest.length > 0 && sure(rescore(rest));
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

function yesNoRule(normalized: string): string | null {
  const first = normalized.split(' ')[0] ?? '';
  if (noStarts.has(first) || noPhrases.test(normalized)) return NO;
  if (yesStarts.has(first)) return YES;
  return null;
}

export class NluClassifier implements IntentClassifier {
  readonly modelVersion: string;
  readonly model: TrainedModel;
  private readonly vectorizer: Vectorizer;
  private readonly opts: ClassifierOptions;

  constructor(model: TrainedModel, opts: ClassifierOptions = {}) {
    this.model = model;
    this.modelVersion = model.modelVersion;
    this.vectorizer = { options: model.featureOptions, vocabulary: model.vocabulary, idf: model.idf };
    this.opts = opts;
  }

  get thresholds(): Thresholds {
    return this.model.thresholds;
  }

  score(text: string): Scored {
    return scoreText(this.model, this.vectorizer, text);
  }

  classify(text: string, context: ClassifyContext = {}): Classification {
    const scored = this.score(text);
    const { normalized, probs } = scored;
    const labels = this.model.labels;
    const allowed = this.opts.allowedIntents;
    const full = ranked(labels, probs, allowed);
    const expected = context.expected?.filter((id) => !allowed || allowed.has(id));
    const reject = this.model.rejectLabel ?? OUT_OF_SCOPE;

    let intent = reject;
    let confidence = 1;
    let needsConfirmation = false;
    if (normalized.length === 0 || !scored.known) {
      confidence = 1;
    } else if (expected && expected.length > 0) {
      const rule = expected.includes(YES) || expected.includes(NO) ? yesNoRule(normalized) : null;
      const candidates = full.filter((s) => expected.includes(s.intent));
      const mass = candidates.reduce((sum, s) => sum + s.confidence, 0);
      if (rule && expected.includes(rule)) {
        intent = rule;
        confidence = Math.max(
          mass > 0 ? (candidates.find((s) => s.intent === rule)?.confidence ?? 0) / mass : 0,
          0.9,
        );
      } else if (candidates.length > 0 && mass >= this.model.thresholds.reject) {
        const best = candidates[0]!;
        intent = best.intent;
        confidence = best.confidence / mass;
        const second = (candidates[1]?.confidence ?? 0) / mass;
        needsConfirmation = decide(confidence, second, this.model.thresholds) !== 'accept';
      } else {
        confidence = 1 - mass;
      }
    } else {
      const best = full[0];
      const second = full[1]?.confidence ?? 0;
      const decision = best ? decide(best.confidence, second, this.model.thresholds) : 'reject';
      if (best && decision !== 'reject') {
        intent = best.intent;
        confidence = best.confidence;
        needsConfirmation = decision === 'confirm' && best.intent !== reject;
      } else {
        const oos = full.find((s) => s.intent === reject)?.confidence ?? 0;
        confidence = Math.max(oos, 1 - (best?.confidence ?? 0));
      }
    }

    const mayBeEmergency = !allowed || allowed.has(EMERGENCY);
    const rescore = (t: string) => ranked(labels, this.score(t).probs, allowed);
    const emergency = mayBeEmergency && isConfidentEmergency(scored, full, this.model.thresholds, rescore);
    let emergencySuspected = false;
    if (emergency) {
      // Danger to life overrides everything, including a yes/no question.
      const probability = full.find((s) => s.intent === EMERGENCY)?.confidence ?? 0;
      intent = EMERGENCY;
      confidence = Math.max(probability, findEmergencyCue(normalized) ? 0.95 : probability);
      needsConfirmation = false;
    } else if (mayBeEmergency) {
      // A question of the line, even an unsure one (it is confirmed), is not made doubtful by «помогите».
      const understood = intent !== reject && intent !== EMERGENCY && !intent.startsWith('dialog.');
      emergencySuspected =
        intent === EMERGENCY ||
        (scored.known && isEmergency(scored, full)) ||
        (helpCue.test(normalized) && !understood);
      if (intent === EMERGENCY) {
        intent = reject;
        needsConfirmation = false;
      }
    }

    const alternatives = (scored.known ? full : [])
      .filter((s) => s.intent !== intent)
      .slice(0, 3)
      .map((s) => ({ intent: s.intent, confidence: round(s.confidence) }));
    const entities = extractEntities(normalized, {
      now: context.now ?? new Date(),
      ...(this.opts.timeZone ? { timeZone: this.opts.timeZone } : {}),
      gazetteer: this.opts.gazetteer ?? [],
    });
    return {
      text,
      intent,
      confidence: round(confidence),
      alternatives,
      entities,
      needsConfirmation,
      emergency,
      emergencySuspected,
    };
  }
}
