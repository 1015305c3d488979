import { resolve } from 'node:path';
import type { Command } from 'commander';
import { fetchModel } from '../../models/fetch.js';
import { DEFAULT_MANIFEST_PATH, DEFAULT_MODELS_DIR, loadManifest } from '../../models/manifest.js';
import { allModelStatuses, formatStatusTable } from '../../models/status.js';
import { reportCliError } from '../context.js';

interface DirOptions {
  dir: string;
  manifest: string;
}

function withDirOptions(cmd: Command): Command {
  return cmd
    .option('--dir <path>', 'folder the models are installed in', DEFAULT_MODELS_DIR)
    .option('--manifest <file>', 'model manifest', DEFAULT_MANIFEST_PATH);
}

/** Registers `otklik models status` and `otklik models fetch NAME`. */
export function register(program: Command): void {
  const models = program.command('models').description('Модели речи: состояние и загрузка (manifest.json)');

  withDirOptions(
    models
      .command('status')
      .description(
        'list every model in the manifest: verified / unverified / missing / incomplete / checksum_mismatch',
      )
      .option('--json', 'print JSON instead of a table')
      .option('--verify', 'hash every file again instead of trusting the install record'),
  ).action(async (opts: DirOptions & { json?: boolean; verify?: boolean }) => {
    try {
      const rows = await allModelStatuses(
        resolve(opts.dir),
        loadManifest(resolve(opts.manifest)),
        Boolean(opts.verify),
      );
      process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatStatusTable(rows)}\n`);
    } catch (err) {
      reportCliError(err);
    }
  });

  withDirOptions(
    models
      .command('fetch')
      .description('download, verify and install one model (resumes an interrupted download)')
      .argument('<name>', 'model name from `otklik models status`')
      .option('--force', 'download again even if the installed copy verifies'),
  ).action(async (name: string, opts: DirOptions & { force?: boolean }) => {
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await fetchModel(name, {
        modelsDir: resolve(opts.dir),
        manifest: loadManifest(resolve(opts.manifest)),
        force: Boolean(opts.force),
        signal: abort.signal,
      });
      const s = result.status;
      const what = result.downloaded ? 'installed' : 'already installed';
      process.stdout.write(`${s.name}: ${what} in ${s.dir} (${s.state}: ${s.detail})\n`);
    } catch (err) {
      reportCliError(err);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}
