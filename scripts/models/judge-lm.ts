/**
 * Builds models/judge-unigram.lm — the independent eval judge's language model (issue #19; see
 * src/eval/judge-lm.ts for what it shares with the sender) — from the Debian pocketsphinx en-us LM:
 * its unigrams only, as ARPA text. Run by `node scripts/build-models.mjs`.
 *
 * Idempotent: skips when the output records the same source hash and builder version.
 * Deterministic: same source, same bytes. Nothing here looks at the dev corpus.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readSphinxTrieLm } from './lib/sphinx-trie.ts';
import { DEFAULT_JUDGE_LM_PATH, unigramArpa } from '../../src/eval/judge-lm.ts';

const BUILDER_VERSION = '1';
const SOURCE = process.env.STCTS_LM_SOURCE ?? '/usr/share/pocketsphinx/model/en-us/en-us.lm.bin';
const OUT = DEFAULT_JUDGE_LM_PATH;

function log(msg: string): void {
  process.stdout.write(`judge-lm: ${msg}\n`);
}

function main(): void {
  if (!existsSync(SOURCE)) {
    log(`source LM ${SOURCE} not found — install the Debian package pocketsphinx-en-us; skipping`);
    return;
  }
  const sourceSha = createHash('sha256').update(readFileSync(SOURCE)).digest('hex');
  const stamp = `source sha256 ${sourceSha} builder ${BUILDER_VERSION}`;
  if (existsSync(OUT) && readFileSync(OUT, 'utf8').slice(0, 400).includes(stamp)) {
    log(`${OUT} is up to date`);
    return;
  }
  const lm = readSphinxTrieLm(SOURCE);
  const text = unigramArpa(lm.words, lm.uniProb, ['stcts eval judge LM: the unigrams of Debian pocketsphinx en-us.lm.bin (scripts/models/judge-lm.ts)', stamp]);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(`${OUT}.tmp`, text);
  renameSync(`${OUT}.tmp`, OUT);
  log(`wrote ${OUT}: ${lm.words.length} unigrams, ${(text.length / 1e6).toFixed(1)} MB`);
}

main();
