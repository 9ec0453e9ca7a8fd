import { DecodeError } from '../../core/errors.ts';
import type { RangeDecoder, RangeEncoder } from '../range/index.ts';
import type { TextModel } from './model.ts';

/** Result of word decoding meaning "the word is spelled with the character model". */
export const SPELL = -1;

/**
 * Session cache of recent rare words (rare in-vocabulary words and spelled words): each gets a
 * boost of {@link CACHE_BOOST}·count at the unigram level, so names repeat cheaply.
 */
export interface WordCache {
  /** id → count (1..CACHE_MAX_COUNT); Map order is least-recently-used first. */
  readonly counts: Map<number, number>;
  /** Spelled words of the session, by id − vocabSize. */
  readonly oovWords: string[];
  readonly oovIds: Map<string, number>;
}

export const CACHE_BOOST = 1 << 15;
export const CACHE_MAX_COUNT = 3;
export const CACHE_MAX_ENTRIES = 64;
export const MAX_SESSION_OOV_WORDS = 1024;
/** Words with a unigram frequency below this (p < 2^-12) enter the cache. */
export const RARE_WORD_FREQ = 1 << 10;

export function newWordCache(): WordCache {
  return { counts: new Map(), oovWords: [], oovIds: new Map() };
}

export function cloneWordCache(c: WordCache): WordCache {
  return { counts: new Map(c.counts), oovWords: c.oovWords.slice(), oovIds: new Map(c.oovIds) };
}

/** Records one use of `id` (caller decides rarity). */
export function touchCache(cache: WordCache, id: number): void {
  const n = cache.counts.get(id) ?? 0;
  cache.counts.delete(id);
  cache.counts.set(id, Math.min(CACHE_MAX_COUNT, n + 1));
  if (cache.counts.size > CACHE_MAX_ENTRIES) {
    const oldest = cache.counts.keys().next().value as number;
    cache.counts.delete(oldest);
  }
}

/** Binary search of `id` in sorted arr[a..b); returns the index or −1. */
function find(arr: Uint32Array, a: number, b: number, id: number): number {
  let lo = a;
  let hi = b - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = arr[mid] as number;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Number of entries of sorted arr[0..n) that are < x. */
function countBelow(arr: Int32Array | Uint32Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Codes word ids with PPM-style escapes trigram → bigram → unigram (+ session cache) → spelling,
 * with exclusion of symbols already offered at a higher level. Integer arithmetic throughout.
 * One instance per session side; holds scratch buffers only.
 */
export class WordCoder {
  private readonly V: number;
  // Scratch: excluded positions/ids and prefix sums of their frequencies.
  private exPos: Int32Array;
  private exCum: Float64Array;
  private uniEx: Int32Array;
  private uniExCum: Float64Array;
  private readonly mark: Int32Array;
  private stamp = 0;

  constructor(private readonly model: TextModel) {
    this.V = model.vocabSize;
    this.exPos = new Int32Array(1024);
    this.exCum = new Float64Array(1025);
    this.uniEx = new Int32Array(4096);
    this.uniExCum = new Float64Array(4097);
    this.mark = new Int32Array(this.V);
  }

  /** Codes word `id` (0 = end of segment, ≥ V = session spelled word) or {@link SPELL}. */
  encode(enc: RangeEncoder, h2: number, h1: number, id: number, cache: WordCache): void {
    this.code(h2, h1, cache, (lvl) => lvl.encode(enc, id));
  }

  /** Decodes a word id, or {@link SPELL}. */
  decode(dec: RangeDecoder, h2: number, h1: number, cache: WordCache): number {
    let out = SPELL;
    this.code(h2, h1, cache, (lvl) => {
      const r = lvl.decode(dec);
      out = r;
      return r !== ESCAPED;
    });
    return out;
  }

  /**
   * Walks the levels; `step` codes at one level and returns true when the word was coded there.
   * The same walk serves encoding and decoding so both sides compute identical intervals.
   */
  private code(h2: number, h1: number, cache: WordCache, step: (lvl: Level) => boolean | void): void {
    const m = this.model;
    const d = m.data;
    this.stamp++;
    if (this.stamp > 0x7ffffff0) {
      this.mark.fill(0);
      this.stamp = 1;
    }
    let triA = 0;
    let triB = 0;
    if (h2 >= 0 && h1 >= 0) {
      const c = m.bigramIndex(h2, h1);
      if (c >= 0 && (d.triStart[c] as number) < (d.triStart[c + 1] as number)) {
        triA = d.triStart[c] as number;
        triB = d.triStart[c + 1] as number;
        const sum = m.triSum[c] as number;
        const tot = sum + (d.triEsc[c] as number);
        const done = step(this.listLevel(d.triWord, d.triFreq, triA, triB, (j) => m.triCum[j] as number, sum, tot, () => true));
        if (done) return;
        for (let k = triA; k < triB; k++) this.mark[d.triWord[k] as number] = this.stamp;
      }
    }
    let biA = 0;
    let biB = 0;
    if (h1 >= 0 && (d.biStart[h1] as number) < (d.biStart[h1 + 1] as number)) {
      biA = d.biStart[h1] as number;
      biB = d.biStart[h1 + 1] as number;
      // Excluded bigram positions (trigram successors), ascending because both lists are sorted.
      let nEx = 0;
      if (triB > triA) {
        this.ensureEx(triB - triA);
        let from = biA;
        for (let k = triA; k < triB; k++) {
          const j = find(d.biWord, from, biB, d.triWord[k] as number);
          if (j >= 0) {
            this.exPos[nEx] = j;
            this.exCum[nEx + 1] = (this.exCum[nEx] as number) + (d.biFreq[j] as number);
            nEx++;
            from = j + 1;
          }
        }
      }
      const exTotal = this.exCum[nEx] as number;
      const sum = (m.biSum[h1] as number) - exTotal;
      const tot = sum + (d.biEsc[h1] as number);
      const rcum = (j: number): number => (m.biCum[j] as number) - (this.exCum[countBelow(this.exPos, nEx, j)] as number);
      const done = step(this.listLevel(d.biWord, d.biFreq, biA, biB, rcum, sum, tot, (id) => this.mark[id] !== this.stamp));
      if (done) return;
    }
    this.unigramLevel(triA, triB, biA, biB, cache, step);
  }

  /**
   * One n-gram level: the successor list words[a..b) with frequencies, cumulative counts `cum(j)`
   * (exclusions already subtracted) and an escape taking [sum, tot). `eligible` says whether a word
   * may be coded here (not excluded by a higher level).
   */
  private listLevel(
    words: Uint32Array,
    freqs: ArrayLike<number>,
    a: number,
    b: number,
    cum: (j: number) => number,
    sum: number,
    tot: number,
    eligible: (id: number) => boolean,
  ): Level {
    return {
      encode: (enc, id) => {
        const j = id < this.V && eligible(id) ? find(words, a, b, id) : -1;
        if (j >= 0) {
          enc.encode(cum(j), freqs[j] as number, tot);
          return true;
        }
        enc.encode(sum, tot - sum, tot);
        return false;
      },
      decode: (dec) => {
        const t = dec.getFreq(tot);
        if (t >= sum) {
          dec.decode(sum, tot - sum, tot);
          return ESCAPED;
        }
        let lo = a;
        let hi = b - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (cum(mid) <= t) lo = mid;
          else hi = mid - 1;
        }
        dec.decode(cum(lo), freqs[lo] as number, tot);
        return words[lo] as number;
      },
    };
  }

  private ensureEx(n: number): void {
    if (this.exPos.length < n) {
      this.exPos = new Int32Array(n * 2);
      this.exCum = new Float64Array(n * 2 + 1);
    }
  }

  private unigramLevel(triA: number, triB: number, biA: number, biB: number, cache: WordCache, step: (lvl: Level) => boolean | void): void {
    const m = this.model;
    const d = m.data;
    const V = this.V;
    // Excluded ids: every successor offered above (trigram ∪ bigram lists), merged ascending.
    const need = triB - triA + biB - biA;
    if (this.uniEx.length < need) {
      this.uniEx = new Int32Array(need * 2);
      this.uniExCum = new Float64Array(need * 2 + 1);
    }
    let n = 0;
    let i = triA;
    let j = biA;
    while (i < triB || j < biB) {
      const a = i < triB ? (d.triWord[i] as number) : Infinity;
      const b = j < biB ? (d.biWord[j] as number) : Infinity;
      const id = a <= b ? a : b;
      if (a === id) i++;
      if (b === id) j++;
      this.mark[id] = this.stamp;
      this.uniEx[n] = id;
      this.uniExCum[n + 1] = (this.uniExCum[n] as number) + (d.uniFreq[id] as number);
      n++;
    }
    // Cache boosts of non-excluded words, ascending by id (in-vocabulary first, then spelled words).
    const boostIds: number[] = [];
    for (const [id, count] of cache.counts) {
      if (id < V && this.mark[id] === this.stamp) continue;
      if (id >= V + cache.oovWords.length) continue;
      boostIds.push(id);
      void count;
    }
    boostIds.sort((x, y) => x - y);
    const boostOf = (id: number): number => CACHE_BOOST * (cache.counts.get(id) ?? 0);
    const boostBefore = (id: number): number => {
      let s = 0;
      for (const b of boostIds) {
        if (b >= id) break;
        s += boostOf(b);
      }
      return s;
    };
    const g = (id: number): number => (m.uniCum[id] as number) - (this.uniExCum[countBelow(this.uniEx, n, id)] as number) + boostBefore(id);
    const gV = g(V);
    const nOov = cache.oovWords.length;
    let oovTotal = 0;
    for (let k = 0; k < nOov; k++) oovTotal += 1 + boostOf(V + k);
    const spellCum = gV + oovTotal;
    const tot = spellCum + d.oovFreq;
    step({
      encode: (enc, id) => {
        if (id === SPELL) enc.encode(spellCum, d.oovFreq, tot);
        else if (id >= V) {
          let cum = gV;
          for (let k = 0; k < id - V; k++) cum += 1 + boostOf(V + k);
          enc.encode(cum, 1 + boostOf(id), tot);
        } else {
          const f = (d.uniFreq[id] as number) + boostOf(id);
          if (f === 0 || this.mark[id] === this.stamp) throw new Error(`word ${id} not codable at the unigram level`);
          enc.encode(g(id), f, tot);
        }
        return true;
      },
      decode: (dec) => {
        const t = dec.getFreq(tot);
        if (t >= spellCum) {
          dec.decode(spellCum, d.oovFreq, tot);
          return SPELL;
        }
        if (t >= gV) {
          let cum = gV;
          for (let k = 0; k < nOov; k++) {
            const f = 1 + boostOf(V + k);
            if (t < cum + f) {
              dec.decode(cum, f, tot);
              return V + k;
            }
            cum += f;
          }
          throw new DecodeError('malformed', 'text: spelled-word cache index out of range');
        }
        let lo = 0;
        let hi = V - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (g(mid) <= t) lo = mid;
          else hi = mid - 1;
        }
        dec.decode(g(lo), (d.uniFreq[lo] as number) + boostOf(lo), tot);
        return lo;
      },
    });
  }
}

const ESCAPED = -2;

interface Level {
  encode(enc: RangeEncoder, id: number): boolean;
  decode(dec: RangeDecoder): number;
}
