export * from './calls.js';
export * from './escalations.js';
export * from './inquiries.js';
