import { createHash } from 'node:crypto';
import { DecodeError } from '../../core/errors.ts';
import { parseTextModel, type TextModelData } from './model-format.ts';

/**
 * A loaded text model: the integer n-gram tables plus derived lookup tables, with its identity.
 * Immutable and shareable by any number of sessions.
 */
export class TextModel {
  /** Model identifier carried in the SessionHeader (e.g. 'en-us-3g-v1'). */
  readonly id: string;
  /** First 32 bits (big-endian) of the SHA-256 of the model bytes; carried in the SessionHeader. */
  readonly hash: number;
  readonly data: TextModelData;
  /** Vocabulary size. */
  readonly vocabSize: number;
  /** Per-context prefix sums of successor frequencies (relative to the context start). */
  readonly biCum: Uint32Array;
  readonly triCum: Uint32Array;
  /** Sum of successor frequencies per context (without the escape). */
  readonly biSum: Uint32Array;
  readonly triSum: Uint32Array;
  /** uniCum[i] = Σ uniFreq[0..i−1]; length V+1. */
  readonly uniCum: Uint32Array;
  private readonly wordIds: Map<string, number>;

  /** Builds from model bytes; throws DecodeError('malformed') when they are not a valid model. */
  constructor(bytes: Uint8Array) {
    this.data = parseTextModel(bytes);
    const d = this.data;
    this.id = d.id;
    const digest = createHash('sha256').update(bytes).digest();
    this.hash = digest.readUInt32BE(0);
    const V = (this.vocabSize = d.vocab.length);
    this.wordIds = new Map();
    for (let i = 1; i < V; i++) if ((d.uniFreq[i] as number) > 0) this.wordIds.set(d.vocab[i] as string, i);
    this.uniCum = new Uint32Array(V + 1);
    for (let i = 0; i < V; i++) this.uniCum[i + 1] = (this.uniCum[i] as number) + (d.uniFreq[i] as number);
    [this.biCum, this.biSum] = prefix(d.biStart, d.biFreq);
    [this.triCum, this.triSum] = prefix(d.triStart, d.triFreq);
  }

  /** Word id of a (lower-case) word the model can code, or −1. Never returns `</s>` or `<s>`. */
  wordId(word: string): number {
    return this.wordIds.get(word) ?? -1;
  }

  /** Index of the bigram entry h2→h1 (the trigram context), or −1. */
  bigramIndex(h2: number, h1: number): number {
    const w = this.data.biWord;
    let lo = this.data.biStart[h2] as number;
    let hi = (this.data.biStart[h2 + 1] as number) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = w[mid] as number;
      if (v === h1) return mid;
      if (v < h1) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Throws DecodeError('model_mismatch') unless id and hash match this model. */
  checkIdentity(id: string, hash: number): void {
    if (id !== this.id || hash >>> 0 !== this.hash) {
      throw new DecodeError('model_mismatch', `text model mismatch: stream uses '${id}' #${(hash >>> 0).toString(16)}, this receiver has '${this.id}' #${this.hash.toString(16)}; install the same model (node scripts/build-models.mjs) on both ends`, { id, hash, localId: this.id, localHash: this.hash });
    }
  }
}

function prefix(start: Uint32Array, freq: Uint32Array): [Uint32Array, Uint32Array] {
  const nCtx = start.length - 1;
  const cum = new Uint32Array(freq.length);
  const sum = new Uint32Array(nCtx);
  for (let c = 0; c < nCtx; c++) {
    let s = 0;
    const b = start[c + 1] as number;
    for (let j = start[c] as number; j < b; j++) {
      cum[j] = s;
      s += freq[j] as number;
    }
    sum[c] = s;
  }
  return [cum, sum];
}
