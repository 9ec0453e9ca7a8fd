import { DecodeError } from '../../core/errors.ts';

/*
 * Binary layout of the text model (models/text-lm.bin), little-endian:
 *   "STCTSLM1" | u32 headerLength | header JSON (UTF-8) | zero pad to 4 |
 *   sections in SECTION_ORDER, each zero-padded to 4 bytes.
 * All probabilities are already integer frequencies, so coding never touches floating point.
 */

const MAGIC = 'STCTSLM1';

/** Characters of the spelling model: index 0 ends a word, the last index escapes to a raw UTF-16 unit. */
export const CHAR_ALPHABET = "\u0000abcdefghijklmnopqrstuvwxyz'-.0123456789";
/** Escape symbol of the spelling model (followed by 16 raw bits). */
export const CHAR_ESC = CHAR_ALPHABET.length;
/** Size of the spelling alphabet including the escape. */
export const CHAR_SYMBOLS = CHAR_ALPHABET.length + 1;

/**
 * Word n-gram model with integer frequencies. Word id 0 is the end-of-segment word `</s>`.
 * Bigram context h: entries biStart[h]..biStart[h+1]−1 (successor ids ascending) plus escape
 * biEsc[h]. Trigram context = a bigram entry index c (the pair h2→h1): entries
 * triStart[c]..triStart[c+1]−1 plus escape triEsc[c].
 */
export interface TextModelData {
  id: string;
  /** Word strings by id ('\n' never occurs in a word). */
  vocab: string[];
  /** Unigram frequency per word; 0 = not codable as a word (e.g. `<s>`). */
  uniFreq: Uint32Array;
  /** Unigram-level escape frequency (word spelled with the character model). */
  oovFreq: number;
  biStart: Uint32Array;
  biWord: Uint32Array;
  biFreq: Uint32Array;
  biEsc: Uint32Array;
  triStart: Uint32Array;
  triWord: Uint32Array;
  triFreq: Uint32Array;
  triEsc: Uint32Array;
  /** Order-2 spelling model: charFreq[(c2 * CHAR_SYMBOLS + c1) * CHAR_SYMBOLS + c], each ≥ 1. */
  charFreq: Uint16Array;
  /** Word id of the sentence-start context `<s>`. */
  startId: number;
}

type SectionName = 'uniFreq' | 'biStart' | 'biWord' | 'biFreq' | 'biEsc' | 'triStart' | 'triWord' | 'triFreq' | 'triEsc' | 'charFreq';
const SECTION_ORDER: readonly SectionName[] = ['uniFreq', 'biStart', 'biWord', 'biFreq', 'biEsc', 'triStart', 'triWord', 'triFreq', 'triEsc', 'charFreq'];

interface Header {
  id: string;
  format: 1;
  startId: number;
  oovFreq: number;
  vocabBytes: number;
  lengths: Record<SectionName, number>;
  /** Free-form provenance (source file hash, builder version); not used for coding. */
  provenance: Record<string, string>;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Serialises a model; the same data always gives the same bytes. */
export function serializeTextModel(m: TextModelData, provenance: Record<string, string>): Uint8Array {
  const vocabBytes = new TextEncoder().encode(m.vocab.join('\n'));
  const lengths = {} as Record<SectionName, number>;
  for (const s of SECTION_ORDER) lengths[s] = m[s].length;
  const header: Header = { id: m.id, format: 1, startId: m.startId, oovFreq: m.oovFreq, vocabBytes: vocabBytes.length, lengths, provenance };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  let size = pad4(8 + 4 + headerBytes.length) + pad4(vocabBytes.length);
  for (const s of SECTION_ORDER) size += pad4(m[s].byteLength);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  dv.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  let off = pad4(12 + headerBytes.length);
  out.set(vocabBytes, off);
  off += pad4(vocabBytes.length);
  for (const s of SECTION_ORDER) {
    const a = m[s];
    // Typed arrays are host-endian; write element by element to be little-endian everywhere.
    if (a instanceof Uint16Array) for (let i = 0; i < a.length; i++) dv.setUint16(off + 2 * i, a[i] as number, true);
    else for (let i = 0; i < a.length; i++) dv.setUint32(off + 4 * i, a[i] as number, true);
    off += pad4(a.byteLength);
  }
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses model bytes (zero-copy views where the host is little-endian). Throws DecodeError('malformed'). */
export function parseTextModel(bytes: Uint8Array): TextModelData {
  const bad = (why: string): never => {
    throw new DecodeError('malformed', `text model: ${why}; rebuild it with 'node scripts/build-models.mjs'`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) bad('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hLen = dv.getUint32(8, true);
  if (12 + hLen > bytes.length) bad('truncated header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hLen))) as Header;
  } catch {
    return bad('header is not JSON');
  }
  if (header.format !== 1) bad(`unsupported format ${String(header.format)}`);
  let off = pad4(12 + hLen);
  if (off + header.vocabBytes > bytes.length) bad('truncated vocabulary');
  const vocab = new TextDecoder().decode(bytes.subarray(off, off + header.vocabBytes)).split('\n');
  off += pad4(header.vocabBytes);
  const sections = {} as Record<SectionName, Uint32Array | Uint16Array>;
  // Aligned views need a 4-aligned absolute offset; copy once otherwise.
  const aligned = bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN_HOST ? bytes : bytes.slice();
  for (const s of SECTION_ORDER) {
    const n = header.lengths[s];
    const width = s === 'charFreq' ? 2 : 4;
    if (!Number.isInteger(n) || n < 0 || off + n * width > bytes.length) bad(`truncated section ${s}`);
    if (LITTLE_ENDIAN_HOST) {
      sections[s] = width === 2 ? new Uint16Array(aligned.buffer, aligned.byteOffset + off, n) : new Uint32Array(aligned.buffer, aligned.byteOffset + off, n);
    } else {
      const a = width === 2 ? new Uint16Array(n) : new Uint32Array(n);
      for (let i = 0; i < n; i++) a[i] = width === 2 ? dv.getUint16(off + 2 * i, true) : dv.getUint32(off + 4 * i, true);
      sections[s] = a;
    }
    off += pad4(n * width);
  }
  const m: TextModelData = {
    id: header.id,
    vocab,
    startId: header.startId,
    oovFreq: header.oovFreq,
    ...(sections as unknown as Pick<TextModelData, Exclude<SectionName, 'charFreq'>>),
    charFreq: sections.charFreq as Uint16Array,
  };
  validateTextModel(m);
  return m;
}

/** Structural checks so a corrupt model fails at load, not mid-session. Throws DecodeError. */
export function validateTextModel(m: TextModelData): void {
  const V = m.vocab.length;
  const fail = (why: string): never => {
    throw new DecodeError('malformed', `text model '${m.id}': ${why}`);
  };
  if (V < 1 || m.vocab[0] !== '</s>') fail('word 0 must be </s>');
  if (m.uniFreq.length !== V || m.biStart.length !== V + 1 || m.biEsc.length !== V) fail('unigram/bigram table sizes');
  const nB = m.biWord.length;
  if (m.biFreq.length !== nB || m.biStart[V] !== nB || m.triStart.length !== nB + 1 || m.triEsc.length !== nB) fail('bigram table sizes');
  const nT = m.triWord.length;
  if (m.triFreq.length !== nT || m.triStart[nB] !== nT) fail('trigram table sizes');
  if (m.charFreq.length !== CHAR_SYMBOLS ** 3) fail('spelling table size');
  let uniTotal = m.oovFreq;
  for (let i = 0; i < V; i++) uniTotal += m.uniFreq[i] as number;
  if (uniTotal > 1 << 23 || m.oovFreq < 1) fail('unigram total must be ≤ 2^23');
  for (let h = 0; h < V; h++) {
    const a = m.biStart[h] as number;
    const b = m.biStart[h + 1] as number;
    if (b < a) fail('bigram offsets not monotonic');
    let t = m.biEsc[h] as number;
    for (let j = a; j < b; j++) {
      t += m.biFreq[j] as number;
      if ((m.biFreq[j] as number) < 1) fail("bigram frequency 0");
      if ((m.biWord[j] as number) >= V || (j > a && (m.biWord[j] as number) <= (m.biWord[j - 1] as number))) fail('bigram successors not sorted');
    }
    if (t > 1 << 22 || (m.biEsc[h] as number) < 1) fail('bigram context total must be ≤ 2^22, escape ≥ 1');
  }
  for (let c = 0; c < nB; c++) {
    const a = m.triStart[c] as number;
    const b = m.triStart[c + 1] as number;
    if (b < a) fail('trigram offsets not monotonic');
    let t = m.triEsc[c] as number;
    for (let j = a; j < b; j++) {
      t += m.triFreq[j] as number;
      if ((m.triFreq[j] as number) < 1) fail("trigram frequency 0");
      if ((m.triWord[j] as number) >= V || (j > a && (m.triWord[j] as number) <= (m.triWord[j - 1] as number))) fail('trigram successors not sorted');
    }
    if (t > 1 << 22 || (m.triEsc[c] as number) < 1) fail('trigram context total must be ≤ 2^22, escape ≥ 1');
  }
  for (let i = 0; i < m.charFreq.length; i++) if ((m.charFreq[i] as number) < 1) fail('spelling frequencies must be ≥ 1');
}
