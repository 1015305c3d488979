/** The NLU's public surface for other parts. */
export { NluClassifier, OUT_OF_SCOPE } from './classifier.js';
export { findEmergencyCue } from './emergency.js';
export { type EntityOptions, extractEntities, gazetteerFromVocabulary } from './entities/index.js';
export { crossValidate, formatReport, trainAndEvaluate } from './evaluate.js';
export { loadModel, saveModel } from './model-io.js';
export { normalize } from './normalize.js';
export { createNluService, type NluService, trainingExamplesFromKb } from './service.js';
export { type LabeledText, type TrainedModel, trainClassifier } from './train.js';
export { parseLabeledTsv, readLabeledTsv } from './tsv.js';
export type * from './types.js';
