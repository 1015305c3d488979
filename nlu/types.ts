/** The NLU's public API, used by the dialog engine and the CLI. */
export interface Entity {
  type: 'date' | 'time' | 'phone' | 'number' | 'snils' | 'oms_policy' | 'clinic' | 'district';
  /** The text span as normalized. */
  text: string;
  /** Normalized value: ISO date 'YYYY-MM-DD', 'HH:MM', '+7XXXXXXXXXX', a number, digits, a KB name. */
  value: string | number;
  start: number;
  end: number;
}

export interface IntentScore {
  intent: string;
  confidence: number;
}

export interface Classification {
  text: string;
  intent: string;
  confidence: number;
  alternatives: IntentScore[];
  entities: Entity[];
  /** The caller should be asked to confirm (top two are close, or confidence between the thresholds). */
  needsConfirmation: boolean;
  /** A confident emergency: a cue of danger to life now, or the model sure of it. Decides at once. */
  emergency: boolean;
  /**
   * An emergency is possible but not certain (the model's guess, a bare «помогите»): the caller is asked
   * «Вам нужна экстренная помощь?». Never true together with `emergency`.
   */
  emergencySuspected: boolean;
}

export interface ClassifyContext {
  /** Restrict to these intents (e.g. dialog.yes/dialog.no after a confirmation question). */
  expected?: string[];
  /** The current reference date for relative dates ('завтра'); defaults to now. */
  now?: Date;
}

export interface IntentClassifier {
  readonly modelVersion: string;
  classify(text: string, context?: ClassifyContext): Classification;
}
