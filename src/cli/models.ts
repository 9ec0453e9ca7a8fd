import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';
import {
  fetchModel, findModel, loadManifest, missingFiles, modelCacheDir, modelPaths, verifyModels,
  type ModelManifest,
} from '../engines/models/index.ts';
import { parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';
import { progressReporter } from '../core/progress.ts';

const USAGE = `Usage: stcts models list [--json]
       stcts models fetch ID [--quiet]
       stcts models verify [ID...] [--json]
Common options: --model-dir DIR (alias --cache; default $STCTS_MODEL_DIR, else ~/.cache/stcts/models)
                --manifest FILE (default models/manifest.json)

Neural models (Whisper ASR, speaker encoder, Piper TTS) are not shipped: their weights are downloaded
into the cache folder, one sub-folder per model id, and checked against the sha256 in the manifest.
Without network, copy the files named by 'stcts models list --json' (urls) into <cache>/<ID>/ by hand,
then run 'stcts models verify'. A file whose sha256 the manifest does not pin is trusted on first use:
its hash is recorded in <cache>/<ID>/.sha256 and later changes are refused.`;

function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '?';
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function fileSize(p: string): number | undefined {
  try {
    return statSync(p).size;
  } catch {
    return undefined;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function list(manifest: ModelManifest, cacheDir: string | undefined, json: boolean): number {
  const rows = manifest.models.map((entry) => {
    const paths = modelPaths(entry, cacheDir);
    const missing = missingFiles(paths);
    const installed = missing.length === 0 ? 'yes' : missing.length === entry.files.length ? 'no' : 'partial';
    const sizes = entry.files.map((f) => fileSize(paths.files[f.name]!) ?? f.bytes);
    const bytes = sizes.every((s) => s !== undefined) ? sizes.reduce<number>((a, b) => a + b!, 0) : undefined;
    return { entry, dir: paths.dir, installed, missing, bytes };
  });
  if (json) {
    const out = {
      cacheDir: modelCacheDir(cacheDir),
      models: rows.map((r) => ({
        id: r.entry.id, kind: r.entry.kind, engine: r.entry.engine, description: r.entry.description, licence: r.entry.licence,
        installed: r.installed, dir: r.dir, missing: r.missing, bytes: r.bytes ?? null,
        files: r.entry.files.map((f) => ({ name: f.name, url: f.url, sha256: f.sha256, bytes: f.bytes ?? null })),
      })),
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  const lines = [['ID', 'KIND', 'ENGINE', 'INSTALLED', 'SIZE', 'LICENCE']];
  for (const r of rows) lines.push([r.entry.id, r.entry.kind, r.entry.engine, r.installed, fmtBytes(r.bytes), r.entry.licence]);
  process.stdout.write(table(lines));
  process.stdout.write(`cache: ${modelCacheDir(cacheDir)}  (fetch one with: stcts models fetch ID)\n`);
  return 0;
}

async function fetch(manifest: ModelManifest, id: string, cacheDir: string | undefined, quiet: boolean): Promise<number> {
  const entry = findModel(id, manifest);
  const progress = progressReporter(quiet);
  let current = '';
  let lastLineBytes = 0;
  const result = await fetchModel(id, {
    manifest,
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    onProgress(done, total, name) {
      if (name !== current) {
        if (current) progress.done();
        current = name;
        lastLineBytes = 0;
      }
      if (total) progress.update(done / total, `${name} ${fmtBytes(done)}/${fmtBytes(total)}`);
      else if (!quiet && done - lastLineBytes >= 10e6) {
        lastLineBytes = done;
        process.stderr.write(`${name}: ${fmtBytes(done)}\n`);
      }
    },
  });
  progress.done();
  for (const f of result.files) {
    const how = f.downloaded ? 'downloaded' : 'already present';
    const trust = f.pinned ? 'sha256 ok' : `sha256 not pinned in the manifest: recorded ${f.sha256.slice(0, 12)}… on first use (trust on first use)`;
    process.stderr.write(`${entry.id}/${f.name}: ${how}, ${trust}\n`);
  }
  process.stdout.write(`${id} installed in ${result.dir}\n`);
  return 0;
}

async function verify(manifest: ModelManifest, ids: string[], cacheDir: string | undefined, json: boolean): Promise<number> {
  for (const id of ids) findModel(id, manifest);
  const results = await verifyModels({ manifest, ...(cacheDir !== undefined ? { cacheDir } : {}), ...(ids.length ? { ids } : {}) });
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else {
    const lines = [['ID', 'STATUS', 'DETAIL']];
    for (const r of results) {
      const bad = r.files.filter((f) => f.status !== 'ok').map((f) => `${f.name}: ${f.status}`);
      lines.push([r.id, r.status, bad.join(', ')]);
    }
    process.stdout.write(table(lines));
  }
  // A corrupt file is always a failure; a missing model only when it was asked for by id.
  const failed = results.some((r) => r.status === 'sha_mismatch' || (ids.length > 0 && r.status === 'missing'));
  return failed ? 1 : 0;
}

export const command: CliCommand = {
  summary: 'list, fetch and verify the neural model weights (Whisper, speaker encoder, Piper)',
  usage: USAGE,
  async run(args) {
    const p = parseArgs(args, { values: ['model-dir', 'manifest'], booleans: ['json', 'quiet'], aliases: { cache: 'model-dir', q: 'quiet' } });
    const [sub, ...rest] = p.positionals;
    const cacheDir = stringFlag(p, 'model-dir');
    const manifestPath = stringFlag(p, 'manifest');
    const manifest = manifestPath ? loadManifest(manifestPath) : loadManifest();
    switch (sub) {
      case 'list':
        if (rest.length) throw new UsageError('models list takes no arguments');
        return list(manifest, cacheDir, p.flags.has('json'));
      case 'fetch':
        if (rest.length !== 1) throw new UsageError(`give exactly one model id (known: ${manifest.models.map((m) => m.id).join(', ')})`);
        return fetch(manifest, rest[0]!, cacheDir, p.flags.has('quiet'));
      case 'verify':
        return verify(manifest, rest, cacheDir, p.flags.has('json'));
      default:
        throw new UsageError(sub ? `unknown subcommand '${sub}' (list, fetch, verify)` : 'give a subcommand: list, fetch or verify');
    }
  },
};
