import type { AnswerHandling, IntentHandling, ServedAnswer } from './types.js';

/**
 * What the line does with a recognized question: the default flow's `by_handling` branch goes by it
 * (voicebot/flow/steps-consult.ts), and "Try it" shows it.
 *
 * An intent handled by a script (its handling `answer` or `forward`) is handled as its APPROVED version says:
 * answer it, forward the caller to the agency, or register an inquiry (the default flow's `inquiry_answer`
 * step says the approved text, then offers the inquiry). Without an approved version the intent's own
 * handling stands (an `answer` intent then gets `answer_unavailable`: nothing unapproved is served). Operator
 * and system intents keep their handling whatever their versions say.
 */
export function effectiveHandling(
  intent: IntentHandling,
  served: Pick<ServedAnswer, 'handling'> | null,
): IntentHandling | AnswerHandling {
  if ((intent === 'answer' || intent === 'forward') && served) return served.handling;
  return intent;
}
