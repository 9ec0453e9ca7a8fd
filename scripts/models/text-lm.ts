/**
 * Builds models/text-lm.bin — the text coder's word 3-gram model — from the Debian pocketsphinx
 * en-us LM (package pocketsphinx-en-us). Run by `node scripts/build-models.mjs`.
 *
 * Idempotent: skips when the output exists and records the same source hash and builder version.
 * Deterministic: the same source gives the same bytes (no timestamps, stable sorts, integer output).
 * Nothing here looks at the dev corpus: the vocabulary and every frequency come from the LM alone.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSphinxTrieLm } from './lib/sphinx-trie.ts';
import { CHAR_ALPHABET, CHAR_ESC, CHAR_SYMBOLS, parseTextModel, serializeTextModel, type TextModelData } from '../../src/codec/text/model-format.ts';

const BUILDER_VERSION = '1';
const MODEL_ID = 'en-us-3g-v1';
const SOURCE = process.env.STCTS_LM_SOURCE ?? '/usr/share/pocketsphinx/model/en-us/en-us.lm.bin';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(root, 'models', 'text-lm.bin');

/** Scale of bigram/trigram context totals (before the ≥1 floor), and of the unigram table. */
const CONTEXT_SCALE = 1 << 20;
const UNIGRAM_SCALE = 1 << 22;
/**
 * Share of the unigram level given to the spelled-word escape. ~1% of running words are OOV for
 * this LM (sphinx_lm_eval on LibriSpeech text) and roughly a fifth of words reach the unigram
 * level, so ~1/20 there.
 */
const OOV_SHARE_DIV = 20;
/** Never let a context's escape fall below this share: sparse contexts understate unseen mass. */
const MIN_ESCAPE_SHARE = 1 / 256;

function log(msg: string): void {
  process.stdout.write(`text-lm: ${msg}\n`);
}

function main(): void {
  if (!existsSync(SOURCE)) {
    log(`source LM ${SOURCE} not found — install the Debian package pocketsphinx-en-us; skipping`);
    return;
  }
  const srcBytes = readFileSync(SOURCE);
  const sourceSha = createHash('sha256').update(srcBytes).digest('hex');
  if (existsSync(OUT)) {
    try {
      const prev = parseTextModelHeaderOnly(readFileSync(OUT));
      if (prev.sourceSha256 === sourceSha && prev.builder === BUILDER_VERSION) {
        log(`${OUT} is up to date`);
        return;
      }
    } catch {
      // unreadable or stale: rebuild
    }
  }
  const t0 = Date.now();
  log(`reading ${SOURCE}`);
  const lm = readSphinxTrieLm(SOURCE);
  const V = lm.words.length;
  const endLm = lm.words.indexOf('</s>');
  const startLm = lm.words.indexOf('<s>');
  if (endLm < 0 || startLm < 0) throw new Error('LM lacks <s> or </s>');
  // Our ids: </s> first (so zero padding decodes to end-of-segment), then the LM's order.
  const toMy = new Uint32Array(V);
  const vocab: string[] = ['</s>'];
  for (let i = 0; i < V; i++) {
    if (i === endLm) continue;
    toMy[i] = vocab.length;
    vocab.push(lm.words[i] as string);
  }
  toMy[endLm] = 0;
  for (const w of vocab) if (w.includes('\n')) throw new Error('word with newline');

  log(`${V} words, ${lm.biWord.length} bigrams, ${lm.triWord.length} trigrams; unigrams`);
  const uniFreq = new Uint32Array(V);
  let uniProbSum = 0;
  for (let i = 0; i < V; i++) if (i !== startLm) uniProbSum += 10 ** (lm.uniProb[i] as number);
  const oovFreq = Math.round(UNIGRAM_SCALE / OOV_SHARE_DIV);
  const uniScale = UNIGRAM_SCALE - oovFreq;
  for (let i = 0; i < V; i++) {
    if (i === startLm) continue;
    uniFreq[toMy[i] as number] = Math.max(1, Math.round(((10 ** (lm.uniProb[i] as number)) / uniProbSum) * uniScale));
  }

  // Natural-order bigrams h → w, from the reversed trie (unigram w, middle h).
  log('bigrams');
  const nRev = lm.biWord.length;
  const biKey = new Float64Array(nRev);
  for (let w = 0; w < V; w++) {
    for (let j = lm.biStart[w] as number; j < (lm.biStart[w + 1] as number); j++) {
      biKey[j] = (toMy[lm.biWord[j] as number] as number) * V + (toMy[w] as number);
    }
  }
  const biOrder = sortedOrder(biKey);
  const revToNat = new Uint32Array(nRev);
  const nat = buildContexts(biOrder, biKey, V, V, (j) => lm.biProb[j] as number);
  for (let n = 0; n < biOrder.length; n++) revToNat[biOrder[n] as number] = n;

  // Trigrams h2 h1 → w: context = natural bigram entry (h2 → h1) = reversed entry (unigram h1, middle h2).
  log('trigrams');
  const nTri = lm.triWord.length;
  const triKey = new Float64Array(nTri);
  let lost = 0;
  for (let w = 0; w < V; w++) {
    for (let j = lm.biStart[w] as number; j < (lm.biStart[w + 1] as number); j++) {
      const h1 = lm.biWord[j] as number;
      for (let k = lm.triStart[j] as number; k < (lm.triStart[j + 1] as number); k++) {
        const h2 = lm.triWord[k] as number;
        const ctxRev = findMiddle(lm.biStart, lm.biWord, h1, h2);
        if (ctxRev < 0) {
          triKey[k] = Number.POSITIVE_INFINITY;
          lost++;
          continue;
        }
        triKey[k] = (revToNat[ctxRev] as number) * V + (toMy[w] as number);
      }
    }
  }
  if (lost > 0) log(`${lost} trigrams without a bigram context dropped`);
  const triOrderAll = sortedOrder(triKey);
  const triOrder = triOrderAll.subarray(0, nTri - lost);
  const tri = buildContexts(triOrder, triKey, V, nRev, (k) => lm.triProb[k] as number);

  log('spelling model');
  const charFreq = buildCharModel(vocab);

  const model: TextModelData = {
    id: MODEL_ID,
    vocab,
    uniFreq,
    oovFreq,
    biStart: nat.start,
    biWord: nat.word,
    biFreq: nat.freq,
    biEsc: nat.esc,
    triStart: tri.start,
    triWord: tri.word,
    triFreq: tri.freq,
    triEsc: tri.esc,
    charFreq,
    startId: toMy[startLm] as number,
  };
  const bytes = serializeTextModel(model, { sourceSha256: sourceSha, builder: BUILDER_VERSION, source: 'pocketsphinx-en-us en-us.lm.bin' });
  parseTextModel(bytes); // validates
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT + '.tmp', bytes);
  renameSync(OUT + '.tmp', OUT);
  const sha = createHash('sha256').update(bytes).digest('hex');
  log(`wrote ${OUT}: ${(bytes.length / 1e6).toFixed(1)} MB, sha256 ${sha.slice(0, 16)}…, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function parseTextModelHeaderOnly(bytes: Uint8Array): Record<string, string> {
  const hLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hLen))) as { provenance: Record<string, string> };
  return h.provenance;
}

/** Indices sorted by key (stable: ties by index). */
function sortedOrder(keys: Float64Array): Uint32Array {
  const idx = new Uint32Array(keys.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => (keys[a] as number) - (keys[b] as number) || a - b);
}

/** Binary search the reversed-trie middle entries of unigram u for history word h. */
function findMiddle(start: Uint32Array, word: Uint32Array, u: number, h: number): number {
  let lo = start[u] as number;
  let hi = (start[u + 1] as number) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = word[mid] as number;
    if (v === h) return mid;
    if (v < h) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Groups sorted (context, word) keys into per-context successor lists with integer frequencies.
 * Each context's probabilities p_i and escape 1 − Σp_i (≥ MIN_ESCAPE_SHARE) are scaled to
 * CONTEXT_SCALE with a floor of 1.
 */
function buildContexts(order: Uint32Array, keys: Float64Array, V: number, nCtx: number, log10p: (i: number) => number) {
  const n = order.length;
  const start = new Uint32Array(nCtx + 1);
  const word = new Uint32Array(n);
  const freq = new Uint32Array(n);
  const esc = new Uint32Array(nCtx);
  const prob = new Float64Array(n);
  let i = 0;
  for (let c = 0; c < nCtx; c++) {
    start[c] = i;
    const a = i;
    let sum = 0;
    while (i < n && Math.floor((keys[order[i] as number] as number) / V) === c) {
      word[i] = (keys[order[i] as number] as number) % V;
      prob[i] = 10 ** log10p(order[i] as number);
      sum += prob[i] as number;
      i++;
    }
    const escP = Math.max(1 - sum, MIN_ESCAPE_SHARE * Math.max(sum, 1));
    const norm = CONTEXT_SCALE / (sum + escP);
    for (let j = a; j < i; j++) freq[j] = Math.max(1, Math.round((prob[j] as number) * norm));
    esc[c] = Math.max(1, Math.round(escP * norm));
  }
  start[nCtx] = i;
  if (i !== n) throw new Error('context keys out of range');
  return { start, word, freq, esc };
}

/** Order-2 letter model from the vocabulary's spellings (types, not tokens: OOVs look like rare words). */
function buildCharModel(vocab: string[]): Uint16Array {
  const S = CHAR_SYMBOLS;
  const counts = new Float64Array(S * S * S);
  const sym = (ch: string): number => {
    const k = CHAR_ALPHABET.indexOf(ch);
    return k > 0 ? k : CHAR_ESC;
  };
  for (const w of vocab) {
    if (w.startsWith('<')) continue;
    let c2 = 0;
    let c1 = 0;
    for (const ch of [...w, '\u0000']) {
      const c = ch === '\u0000' ? 0 : sym(ch);
      counts[(c2 * S + c1) * S + c] = (counts[(c2 * S + c1) * S + c] as number) + 1;
      c2 = c1;
      c1 = c;
    }
  }
  const out = new Uint16Array(S * S * S);
  for (let ctx = 0; ctx < S * S; ctx++) {
    let sum = 0;
    for (let c = 0; c < S; c++) sum += counts[ctx * S + c] as number;
    for (let c = 0; c < S; c++) {
      const k = ctx * S + c;
      out[k] = 1 + (sum > 0 ? Math.floor(((counts[k] as number) * 60_000) / sum) : 0);
    }
  }
  return out;
}

main();
