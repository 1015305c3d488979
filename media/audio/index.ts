export * from './framing.js';
export * from './g711.js';
export * from './pcm.js';
export * from './resample.js';
export * from './wav.js';
