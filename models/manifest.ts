import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { OtklikError } from '../core/errors.js';

/**
 * The model manifest (models/manifest.json): what can be fetched, from where, and how to verify it.
 * A null sha256 or size means "not known here"; such a model installs but shows as unverified.
 */

const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits')
  .nullable();

const fileSchema = z.object({
  /** Path inside the install dir. */
  path: z.string().min(1),
  /** Download URL for a file fetched on its own; absent for files that come out of the archive. */
  url: z.string().url().optional(),
  size: z.number().int().nonnegative().nullable(),
  sha256,
});

const modelSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  kind: z.enum(['asr', 'tts', 'vad', 'nlu']),
  engine: z.string(),
  description: z.string(),
  licence: z.string(),
  installDir: z.string().min(1),
  archive: z
    .object({
      url: z.string().url(),
      format: z.literal('zip'),
      sha256,
      size: z.number().int().positive().nullable(),
    })
    .optional(),
  checksumNote: z.string().optional(),
  files: z.array(fileSchema),
});

export const manifestSchema = z.object({ models: z.array(modelSchema).min(1) });

export type ModelFile = z.infer<typeof fileSchema>;
export type ModelEntry = z.infer<typeof modelSchema>;
export type Manifest = z.infer<typeof manifestSchema>;

/** The folder that holds this file, manifest.json and the installed models. */
export const DEFAULT_MODELS_DIR = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MANIFEST_PATH = join(DEFAULT_MODELS_DIR, 'manifest.json');

export function parseManifest(input: unknown, source = 'manifest'): Manifest {
  const parsed = manifestSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new OtklikError('VALIDATION_FAILED', `${source}: invalid model manifest: ${issues}`);
  }
  for (const model of parsed.data.models) {
    for (const file of model.files) {
      if (!model.archive && !file.url) {
        throw new OtklikError(
          'VALIDATION_FAILED',
          `${source}: ${model.name}/${file.path} has no url and no archive`,
        );
      }
    }
  }
  return parsed.data;
}

export function loadManifest(path = DEFAULT_MANIFEST_PATH): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OtklikError(
      'VALIDATION_FAILED',
      `${path}: cannot read the model manifest: ${(err as Error).message}`,
    );
  }
  return parseManifest(raw, path);
}

export function findModel(manifest: Manifest, name: string): ModelEntry {
  const entry = manifest.models.find((m) => m.name === name);
  if (!entry) {
    const known = manifest.models.map((m) => m.name).join(', ');
    throw new OtklikError('NOT_FOUND', `unknown model "${name}"; known models: ${known}`);
  }
  return entry;
}

export function installPath(modelsDir: string, entry: ModelEntry): string {
  return resolve(modelsDir, entry.installDir);
}

/** Byte sizes of a manifest model's files, by the model folder's name (for the ASR's pre-load check). */
export function expectedSizesFor(modelDir: string, manifest?: Manifest): Record<string, number> {
  let m: Manifest;
  try {
    m = manifest ?? loadManifest();
  } catch {
    return {};
  }
  const base = resolve(modelDir).split(/[\\/]/).pop();
  const entry = m.models.find((e) => e.installDir === base);
  if (!entry) return {};
  return Object.fromEntries(
    entry.files.filter((f) => f.size !== null).map((f) => [f.path, f.size as number]),
  );
}
