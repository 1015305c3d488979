import type { KnowledgeBase } from '../kb/types.js';
import { type GazetteerEntry, gazetteerFromVocabulary } from './entities/index.js';
import type { LabeledText } from './train.js';

/** The KB's training phrases as labeled texts: every intent of the current KB (its ids are open). */
export async function trainingExamplesFromKb(kb: KnowledgeBase): Promise<LabeledText[]> {
  const intents = await kb.intents();
  return intents.flatMap((i) => i.phrases.map((text) => ({ text, label: i.id })));
}

/** The intents a classifier may answer: the KB's current ones. */
export async function intentIdsOfKb(kb: KnowledgeBase): Promise<Set<string>> {
  return new Set((await kb.intents()).map((i) => i.id));
}

export async function gazetteerFromKb(kb: KnowledgeBase): Promise<GazetteerEntry[]> {
  return gazetteerFromVocabulary(await kb.vocabulary());
}
