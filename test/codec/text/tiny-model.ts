import { CHAR_SYMBOLS, TextModel, serializeTextModel, type TextModelData } from '../../../src/codec/text/index.ts';

/** A hand-made 10-word model so the coder logic is tested without the Debian LM. */
export const TINY_VOCAB = ['</s>', '<s>', 'the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', "don't"];
const UNI = [200, 0, 900, 300, 250, 400, 120, 600, 180, 60];
const BIGRAMS: Array<[string, string, number]> = [
  ['<s>', 'the', 5000], ['<s>', 'a', 3000],
  ['the', 'cat', 4000], ['the', 'mat', 2000], ['the', 'dog', 3000],
  ['cat', 'sat', 6000], ['cat', '</s>', 1000],
  ['sat', 'on', 7000], ['on', 'the', 8000], ['mat', '</s>', 5000], ['a', 'dog', 4000], ['dog', '</s>', 3000],
];
const TRIGRAMS: Array<[string, string, string, number]> = [
  ['<s>', 'the', 'cat', 9000], ['the', 'cat', 'sat', 9000], ['cat', 'sat', 'on', 9500], ['sat', 'on', 'the', 9500], ['on', 'the', 'mat', 7000],
];

export function tinyModelData(id = 'tiny-v1', variant = 0): TextModelData {
  const V = TINY_VOCAB.length;
  const ix = (w: string): number => TINY_VOCAB.indexOf(w);
  const bis = BIGRAMS.map(([h, w, f]) => [ix(h), ix(w), f + variant] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const biStart = new Uint32Array(V + 1);
  for (let h = 0, j = 0; h <= V; h++) {
    while (j < bis.length && (bis[j] as readonly number[])[0] as number < h) j++;
    biStart[h] = j;
  }
  const biIndex = (h: number, w: number): number => bis.findIndex((b) => b[0] === h && b[1] === w);
  const tris = TRIGRAMS.map(([h2, h1, w, f]) => [biIndex(ix(h2), ix(h1)), ix(w), f] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const triStart = new Uint32Array(bis.length + 1);
  for (let c = 0, k = 0; c <= bis.length; c++) {
    while (k < tris.length && (tris[k] as readonly number[])[0] as number < c) k++;
    triStart[c] = k;
  }
  return {
    id,
    vocab: TINY_VOCAB.slice(),
    uniFreq: Uint32Array.from(UNI),
    oovFreq: 150,
    biStart,
    biWord: Uint32Array.from(bis.map((b) => b[1])),
    biFreq: Uint32Array.from(bis.map((b) => b[2])),
    biEsc: new Uint32Array(V).fill(2000),
    triStart,
    triWord: Uint32Array.from(tris.map((t) => t[1])),
    triFreq: Uint32Array.from(tris.map((t) => t[2])),
    triEsc: new Uint32Array(bis.length).fill(1000),
    charFreq: new Uint16Array(CHAR_SYMBOLS ** 3).fill(1).map((_, i) => 1 + (i % 7)),
    startId: ix('<s>'),
  };
}

export function tinyModel(id?: string, variant?: number): TextModel {
  return new TextModel(serializeTextModel(tinyModelData(id, variant), { note: 'test fixture' }));
}
