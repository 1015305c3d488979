import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * speech.proto loaded at run time (no generated code), with the TypeScript shapes of its messages as
 * proto-loader delivers them: camelCase fields, enums as strings, 64-bit integers as numbers.
 */

export const PROTO_PATH = join(dirname(fileURLToPath(import.meta.url)), 'speech.proto');

export interface RecognizeConfigMsg {
  sampleRate: number;
  enableVad: boolean;
  enableAsr: boolean;
  hints: string[];
  vadThreshold: number;
  minSpeechMs: number;
  hangoverMs: number;
  preRollMs: number;
  grammar: string[];
}

export interface RecognizeRequestMsg {
  config?: RecognizeConfigMsg | null;
  audio?: { seq: number; pcm16: Buffer } | null;
  finish?: { seq: number } | null;
  request?: 'config' | 'audio' | 'finish';
}

export type VadEventType = 'SPEECH_START' | 'SPEECH_END' | 'TYPE_UNSPECIFIED';

export interface RecognitionResultMsg {
  text: string;
  final: boolean;
  confidence: number;
  words: { word: string; startMs: number; endMs: number; confidence: number }[];
}

export interface RecognizeResponseMsg {
  seq: number;
  vadEvents: { type: VadEventType; atMs: number }[];
  result?: RecognitionResultMsg | null;
  speechProbability: number;
  finished: boolean;
}

export interface SynthesizeRequestMsg {
  text: string;
  voice: string;
  sampleRate: number;
  rate: number;
}

export interface SynthesizeChunkMsg {
  pcm16: Buffer;
  sampleRate: number;
  text: string;
  last: boolean;
}

export interface VoiceMsg {
  id: string;
  engine: string;
  language: string;
  sampleRate: number;
  available: boolean;
}

export interface EngineHealthMsg {
  name: string;
  status: 'ready' | 'model_missing' | 'failed' | string;
  message: string;
}

export interface HealthResponseMsg {
  vad: EngineHealthMsg;
  asr: EngineHealthMsg;
  tts: EngineHealthMsg;
  activeRecognizeStreams: number;
  activeSynthesizeCalls: number;
}

let cached: grpc.GrpcObject | undefined;

function loadPackage(): grpc.GrpcObject {
  cached ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_PATH, {
      keepCase: false,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  );
  return cached;
}

/** The Speech service's client constructor, carrying `.service` for servers. */
export function speechServiceClient(): grpc.ServiceClientConstructor {
  const pkg = loadPackage() as unknown as {
    otklik: { speech: { v1: { Speech: grpc.ServiceClientConstructor } } };
  };
  return pkg.otklik.speech.v1.Speech;
}
