import { DecodeError, EncodeError } from '../../core/errors.ts';
import { RangeDecoder, RangeEncoder } from '../range/index.ts';
import { SignedLaplaceModel, StaticSymbolModel } from './signed-model.ts';
import { splitWords } from './syllables.ts';
import { nominalSpeechMs, speechMsFromRate } from './analyze.ts';
import { DCT_COEFFS, MODE_STEP_FACTOR, PAUSE_CLASS_MS, PROSODY_MODES, initialProsodyState, type PhraseProsody, type ProsodyCodingState, type ProsodyDetail, type ProsodyMode } from './types.ts';

/** Longest phrase (in words) whose prosody is coded; longer input is refused. */
export const MAX_PROSODY_WORDS = 512;

// Static models: a lost phrase cannot desynchronize them. Scales (and the centre of the first DCT
// coefficient: phrases mostly fall in pitch) are the best single-Laplace fits on the dev corpus's
// pocketsphinx phrases (scripts/bench-prosody.ts measures the result).
const MODE_MODEL = new StaticSymbolModel([124, 2, 2]); // same as last, then the other two in order
// Minimal mode codes level/rate/DCT in MODE_STEP_FACTOR-times coarser units, so its scales shrink alike.
const LEVEL_DELTA = new SignedLaplaceModel(1.75);
const RATE_DELTA = new SignedLaplaceModel(1.8);
const DCT_MODELS = [1.7, 1.5, 1.2, 1.15, 1.0, 1.05, 0.55, 0.5].map((s) => new SignedLaplaceModel(s));
const DCT_CENTRE = [2, 0, 1, 0, 0, 0, 0, 0];
const MIN_LEVEL_DELTA = new SignedLaplaceModel(0.85);
const MIN_RATE_DELTA = new SignedLaplaceModel(0.9);
const MIN_DCT_MODELS = [0.85].map((s) => new SignedLaplaceModel(s));
const MIN_DCT_CENTRE = [1];
const levelModel = (m: ProsodyMode) => (m === 'minimal' ? MIN_LEVEL_DELTA : LEVEL_DELTA);
const rateModel = (m: ProsodyMode) => (m === 'minimal' ? MIN_RATE_DELTA : RATE_DELTA);
const dctModels = (m: ProsodyMode) => (m === 'minimal' ? MIN_DCT_MODELS : DCT_MODELS);
const dctCentre = (m: ProsodyMode) => (m === 'minimal' ? MIN_DCT_CENTRE : DCT_CENTRE);
const PAUSE_MODEL = new StaticSymbolModel([90, 5, 3, 2]);
// Fitted (best single Laplace scale) to the dev corpus's pocketsphinx word times: 1.05 and 0.6.
const WORD_DUR = new SignedLaplaceModel(1.05);
const WORD_F0 = new SignedLaplaceModel(0.6);

function checkWords(wordCount: number, err: 'encode' | 'decode'): void {
  if (!Number.isInteger(wordCount) || wordCount < 0 || wordCount > MAX_PROSODY_WORDS) {
    const msg = `prosody: ${wordCount} words (max ${MAX_PROSODY_WORDS})`;
    throw err === 'encode' ? new EncodeError('too_large', msg) : new DecodeError('too_large', msg);
  }
}

/** Codes one phrase's prosody into `enc` (channel set to 'prosody'), predicted from `state`. */
export function encodePhraseProsody(p: PhraseProsody, enc: RangeEncoder, wordCount: number, state: ProsodyCodingState): void {
  checkWords(wordCount, 'encode');
  const k = DCT_COEFFS[p.mode];
  if (k === undefined || p.dctQ.length !== k) throw new EncodeError('invalid_value', `prosody: mode ${p.mode} needs ${k} DCT coefficients, got ${p.dctQ.length}`);
  const pauses = p.mode === 'minimal' ? 0 : Math.max(0, wordCount - 1);
  if (p.pauseQ.length !== pauses) throw new EncodeError('invalid_value', `prosody: ${p.pauseQ.length} pause classes for ${wordCount} words in ${p.mode} mode`);
  enc.channel = 'prosody';
  MODE_MODEL.encode(enc, modeSymbol(p.mode, state));
  const step = MODE_STEP_FACTOR[p.mode];
  const levelDelta = p.levelQ - state.refLevelQ;
  if (levelDelta % step !== 0) throw new EncodeError('invalid_value', `prosody: ${p.mode} level delta ${levelDelta} is not a multiple of ${step}`);
  levelModel(p.mode).encode(enc, levelDelta / step);
  const rateDelta = p.rateQ - state.refRateQ;
  if (rateDelta % step !== 0) throw new EncodeError('invalid_value', `prosody: ${p.mode} rate delta ${rateDelta} is not a multiple of ${step}`);
  rateModel(p.mode).encode(enc, rateDelta / step);
  p.dctQ.forEach((q, i) => dctModels(p.mode)[i]!.encode(enc, q - dctCentre(p.mode)[i]!));
  for (const c of p.pauseQ) PAUSE_MODEL.encode(enc, c);
}

/** Decodes what {@link encodePhraseProsody} wrote, given the same word count and state. */
export function decodePhraseProsody(dec: RangeDecoder, wordCount: number, state: ProsodyCodingState): PhraseProsody {
  checkWords(wordCount, 'decode');
  const mode = modeFromSymbol(MODE_MODEL.decode(dec), state);
  const levelQ = state.refLevelQ + MODE_STEP_FACTOR[mode] * levelModel(mode).decode(dec);
  const rateQ = state.refRateQ + MODE_STEP_FACTOR[mode] * rateModel(mode).decode(dec);
  const dctQ: number[] = [];
  for (let i = 0; i < DCT_COEFFS[mode]; i++) dctQ.push(dctModels(mode)[i]!.decode(dec) + dctCentre(mode)[i]!);
  const pauseQ: number[] = [];
  const pauses = mode === 'minimal' ? 0 : Math.max(0, wordCount - 1);
  for (let i = 0; i < pauses; i++) pauseQ.push(PAUSE_MODEL.decode(dec));
  return { mode, levelQ, rateQ, dctQ, pauseQ };
}

/** The state after a phrase has been delivered (pure: returns a new object). */
export function advanceProsodyState(state: ProsodyCodingState, p: PhraseProsody): ProsodyCodingState {
  return { refLevelQ: p.levelQ, refRateQ: p.rateQ, lastMode: p.mode };
}

function modeSymbol(mode: string, state: ProsodyCodingState): number {
  if (mode === state.lastMode) return 0;
  const others = PROSODY_MODES.filter((m) => m !== state.lastMode);
  const i = others.indexOf(mode as never);
  if (i < 0) throw new EncodeError('invalid_value', `prosody: unknown mode ${mode}`);
  return i + 1;
}

function modeFromSymbol(s: number, state: ProsodyCodingState) {
  if (s === 0) return state.lastMode;
  return PROSODY_MODES.filter((m) => m !== state.lastMode)[s - 1]!;
}

/** Word-level detail on its own bytes (a ProsodyPhrase frame); independent of any session state. */
export function encodeProsodyDetail(d: ProsodyDetail): { coded: Uint8Array; bits: number } {
  checkWords(d.wordDurQ.length, 'encode');
  if (d.wordF0Q.length !== d.wordDurQ.length) throw new EncodeError('invalid_value', 'prosody detail: wordDurQ and wordF0Q lengths differ');
  const enc = new RangeEncoder();
  enc.channel = 'prosody';
  for (let i = 0; i < d.wordDurQ.length; i++) {
    WORD_DUR.encode(enc, d.wordDurQ[i]!);
    WORD_F0.encode(enc, d.wordF0Q[i]!);
  }
  const coded = enc.finish();
  return { coded, bits: coded.length * 8 };
}

/** Decodes {@link encodeProsodyDetail} bytes for a phrase of `wordCount` words; DecodeError on garbage. */
export function decodeProsodyDetail(coded: Uint8Array, wordCount: number): ProsodyDetail {
  checkWords(wordCount, 'decode');
  if (coded.length > 4 * wordCount + 16) throw new DecodeError('too_large', `prosody detail: ${coded.length} bytes for ${wordCount} words`);
  const dec = new RangeDecoder(coded);
  const wordDurQ: number[] = [];
  const wordF0Q: number[] = [];
  for (let i = 0; i < wordCount; i++) {
    wordDurQ.push(WORD_DUR.decode(dec));
    wordF0Q.push(WORD_F0.decode(dec));
  }
  dec.finish();
  return { wordDurQ, wordF0Q };
}

/**
 * The in-band prosody coder for {@link LmPhraseCodec} (src/codec/session): codes after the text in
 * the same range coder. Its prediction state advances on every encode/decode (`autoCommit`, the
 * default, matching the session's commit-on-delivery) or only on explicit {@link commit}.
 */
export class PhraseProsodyCoder {
  private st: ProsodyCodingState;
  /**
   * @param autoCommit advance the prediction on every encode/decode (default true)
   * @param medianF0OfProfile reads a speaker profile's median F0 (Hz) for {@link speakerChanged};
   *   undefined → speaker changes leave the prediction alone
   */
  constructor(
    initial: ProsodyCodingState = initialProsodyState(),
    private readonly autoCommit = true,
    private readonly medianF0OfProfile?: (profile: Uint8Array) => number | undefined,
  ) {
    this.st = { ...initial };
  }
  /**
   * The session switched to the speaker of `profile` (sent or referenced at this point of the stream,
   * on both sides): the next level is predicted from the profile's median F0 instead of the last
   * phrase, so the first phrase of a voice costs ~1 bit of level instead of ~4 (issue #5).
   */
  speakerChanged(profile: Uint8Array): void {
    const hz = this.medianF0OfProfile?.(profile);
    if (hz !== undefined && Number.isFinite(hz) && hz > 0) this.st = { ...this.st, refLevelQ: initialProsodyState(hz, this.st.lastMode).refLevelQ };
  }
  get state(): Readonly<ProsodyCodingState> {
    return this.st;
  }
  encode(prosody: PhraseProsody, enc: RangeEncoder, text: string): void {
    encodePhraseProsody(prosody, enc, splitWords(text).length, this.st);
    if (this.autoCommit) this.commit(prosody);
  }
  decode(dec: RangeDecoder, text: string): PhraseProsody {
    const p = decodePhraseProsody(dec, splitWords(text).length, this.st);
    if (this.autoCommit) this.commit(p);
    return p;
  }
  commit(prosody: PhraseProsody): void {
    this.st = advanceProsodyState(this.st, prosody);
  }
  /** Spoken duration the phrase prosody implies (speech time from the rate plus coded pauses); nominal without prosody. ms. */
  durationMs(prosody: PhraseProsody | undefined, text: string): number {
    const words = splitWords(text);
    if (!prosody) return nominalSpeechMs(words);
    return speechMsFromRate(words, prosody.rateQ) + prosody.pauseQ.reduce((s, c) => s + (PAUSE_CLASS_MS[c] ?? 0), 0);
  }
}
