/**
 * Reader for the sphinxbase "Trie Language Model" binary (pocketsphinx en-us.lm.bin).
 *
 * Why our own reader: Debian's `sphinx_lm_convert -ofmt arpa` aborts on this file (assertion in
 * ngram_model_trie_write_arpa), so the ARPA route does not work. The layout below follows
 * sphinxbase's lm_trie.c / lm_trie_quant.c (BSD): header, 3-gram counts, quantisation tables
 * (16-bit bins), unigrams {float prob, float bo, uint32 next}, bit-packed bigram ("middle") and
 * trigram ("longest") arrays, then the word strings. Log values are in log base 1.0001.
 *
 * The trie is keyed in REVERSE word order: unigram w → middle entry h1 → longest entry h2 holds
 * p(w | h1) and p(w | h2 h1); a middle entry's backoff is that of the bigram "h1 w".
 */
import { readFileSync } from 'node:fs';

const HEADER = 'Trie Language Model';
/** Multiply a sphinx log-1.0001 value by this to get log10. */
export const SPHINX_LOG_TO_LOG10 = Math.log10(1.0001);

export interface SphinxTrigramLm {
  words: string[];
  /** log10 unigram probability / backoff, per word id. */
  uniProb: Float64Array;
  uniBo: Float64Array;
  /** Middle entries under unigram w are biStart[w] .. biStart[w+1]−1: biWord = h1, p(w | h1). */
  biStart: Uint32Array;
  biWord: Uint32Array;
  biProb: Float64Array;
  biBo: Float64Array;
  /** Longest entries under middle entry j (w, h1) are triStart[j] .. triStart[j+1]−1: triWord = h2, p(w | h2 h1). */
  triStart: Uint32Array;
  triWord: Uint32Array;
  triProb: Float64Array;
}

function requiredBits(max: number): number {
  let bits = 0;
  while (max > 0) {
    bits++;
    max = Math.floor(max / 2);
  }
  return bits;
}

/** Parses a 3-gram sphinx trie LM; throws if the file is not one. */
export function readSphinxTrieLm(path: string): SphinxTrigramLm {
  const buf = readFileSync(path);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.toString('latin1', 0, HEADER.length) !== HEADER) throw new Error(`${path}: not a sphinx trie LM`);
  let off = HEADER.length;
  const order = buf[off++];
  if (order !== 3) throw new Error(`${path}: expected a 3-gram LM, got order ${order}`);
  const c0 = dv.getUint32(off, true);
  const c1 = dv.getUint32(off + 4, true);
  const c2 = dv.getUint32(off + 8, true);
  off += 12 + 4; // counts + quantiser's dummy int
  const bins = (i: number): Float32Array => {
    const a = new Float32Array(65536);
    for (let k = 0; k < 65536; k++) a[k] = dv.getFloat32(off + (i * 65536 + k) * 4, true);
    return a;
  };
  const biProbBins = bins(0);
  const biBoBins = bins(1);
  const triProbBins = bins(2);
  off += 3 * 65536 * 4;

  const uniProb = new Float64Array(c0);
  const uniBo = new Float64Array(c0);
  const uniNext = new Uint32Array(c0 + 1);
  for (let i = 0; i <= c0; i++) {
    const p = off + i * 12;
    if (i < c0) {
      uniProb[i] = dv.getFloat32(p, true) * SPHINX_LOG_TO_LOG10;
      uniBo[i] = dv.getFloat32(p + 4, true) * SPHINX_LOG_TO_LOG10;
    }
    uniNext[i] = dv.getUint32(p + 8, true);
  }
  off += (c0 + 1) * 12;

  const wordBits = requiredBits(c0);
  const nextBits = requiredBits(c2);
  const midTotal = wordBits + 32 + nextBits;
  const midBytes = Math.floor(((1 + c1) * midTotal + 7) / 8) + 8;
  const lonTotal = wordBits + 16;
  const lonBytes = Math.floor(((1 + c2) * lonTotal + 7) / 8) + 8;
  const midBase = off;
  const lonBase = off + midBytes;
  off += midBytes + lonBytes;

  // Little-endian bit packing as in KenLM's bit_packing.hh: read 32 bits at the byte, shift, mask.
  const rb = (base: number, bitOff: number, bits: number): number => {
    const byte = Math.floor(bitOff / 8);
    const v = dv.getUint32(base + byte, true) >>> (bitOff % 8);
    return (v & ((1 << bits) - 1)) >>> 0;
  };

  // The header counts include entries the builder reserved but did not fill; the real ends are
  // the last unigram's next pointer and the last middle entry's next pointer.
  const nBi = uniNext[c0] as number;
  if (nBi > c1) throw new Error(`${path}: corrupt bigram pointers`);
  const biWord = new Uint32Array(c1);
  const biProb = new Float64Array(c1);
  const biBo = new Float64Array(c1);
  const triStart = new Uint32Array(c1 + 1);
  for (let j = 0; j <= c1; j++) {
    const b = j * midTotal;
    if (j < c1) {
      biWord[j] = rb(midBase, b, wordBits);
      biBo[j] = (biBoBins[rb(midBase, b + wordBits, 16)] as number) * SPHINX_LOG_TO_LOG10;
      biProb[j] = (biProbBins[rb(midBase, b + wordBits + 16, 16)] as number) * SPHINX_LOG_TO_LOG10;
    }
    triStart[j] = rb(midBase, b + wordBits + 32, nextBits);
  }
  const nTri = triStart[nBi] as number;
  if (nTri > c2) throw new Error(`${path}: corrupt trigram pointers`);
  const triWord = new Uint32Array(nTri);
  const triProb = new Float64Array(nTri);
  for (let k = 0; k < nTri; k++) {
    const b = k * lonTotal;
    triWord[k] = rb(lonBase, b, wordBits);
    triProb[k] = (triProbBins[rb(lonBase, b + wordBits, 16)] as number) * SPHINX_LOG_TO_LOG10;
  }

  const strLen = dv.getInt32(off, true);
  off += 4;
  const words = buf.toString('utf8', off, off + strLen).split('\0').slice(0, c0);
  if (words.length !== c0) throw new Error(`${path}: expected ${c0} words, found ${words.length}`);
  return {
    words, uniProb, uniBo, biStart: uniNext,
    biWord: biWord.subarray(0, nBi), biProb: biProb.subarray(0, nBi), biBo: biBo.subarray(0, nBi),
    triStart: triStart.subarray(0, nBi + 1), triWord, triProb,
  };
}
