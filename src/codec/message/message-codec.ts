import { DecodeError, EncodeError, InvalidStateError } from '../../core/errors.ts';
import type { CodecMode } from '../frame/index.ts';
import { initialProsodyState, PhraseProsodyCoder, type PhraseProsody } from '../prosody/index.ts';
import { AdaptiveFrequencyModel, RangeDecoder, RangeEncoder } from '../range/index.ts';
import { CODEC_VERSION } from '../session/index.ts';
import { decodePhraseGap, encodePhraseGap, PhraseClock } from '../session/phrase-time.ts';
import { COMPACT_PROFILE_BYTES, decodeSpeakerProfile, profileHash, SPEAKER_PROFILE_BYTES } from '../speaker/index.ts';
import { TextCodingSession, type TextModel } from '../text/index.ts';
import { decodeMessageHeader, encodeMessageHeader, MESSAGE_FORMAT_VERSION, MESSAGE_HEADER_BYTES, shortModelHash, type FirstItem, type MessageHeader } from './header.ts';
import { MessageGapCoder, quantizeMessageGap } from './message-time.ts';
import { decodeProfileInMessage, encodeProfileInMessage } from './profile-coding.ts';

/*
 * A voice message (issue #16) is a .stc session squeezed for message links: the 2-byte header of
 * ./header.ts instead of the SessionHeader frame, then every item of the session — speaker profile
 * (or its 12-bit reference), phrases, end — in ONE range-coded string. Each phrase is coded as
 * LmPhraseCodec codes a TextSegment (LM text, then the in-band phrase prosody, then the phrase start
 * as a gap to the predicted start: src/codec/session), with the same TextCodingSession,
 * PhraseProsodyCoder and PhraseClock. What changes is the framing — no item header per phrase and
 * one coder termination per message instead of one per phrase (≈ 1.5–2 bytes per phrase), the item
 * kind as an adaptive symbol (< 1 bit per phrase) — and the start gap, kept to relative precision
 * (./message-time.ts: ≈ 2 bits less per pause).
 */

/** Time unit of message phrase starts, ms (the session default). */
export const MESSAGE_TIME_UNIT_MS = 100;
/** Largest message (all parts together) this version writes or reads, bytes. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Most items (phrases + profiles) in one message; a decoder stops garbage here. */
export const MAX_MESSAGE_ITEMS = 4096;
/** Largest word-level prosody detail (mode `high`) carried for one phrase, bytes. */
const MAX_DETAIL_BYTES = 1024;

const ITEM_PHRASE = 0;
const ITEM_PROFILE = 1;
const ITEM_PROFILE_REF = 2;
const ITEM_END = 3;
// Mostly phrases, one end; a profile (change) is rare after the first item, which the header names.
const itemModel = () => new AdaptiveFrequencyModel(4, { increment: 2, limit: 1 << 10, initial: [24, 1, 1, 3] });
// Phrases nearly always carry prosody.
const hasProsodyModel = () => new AdaptiveFrequencyModel(2, { increment: 24, limit: 1 << 10, initial: [1, 15] });

/** 16-bit profile hash: the key of {@link DecodeMessageOptions.knownProfiles} maps (and of profile stores). */
export function profileHash16(profile: Uint8Array): number {
  return profileHash(profile) & 0xffff;
}

/**
 * Bits of the reference a message carries for a profile the receiver already holds: the low bits of
 * {@link profileHash16}. A receiver holds tens of profiles, not thousands; version 1 spent 16 bits.
 * 12 bits keep a reference unambiguous because neither end guesses: the sender names by reference
 * only a profile whose reference no other profile of its known list shares ({@link uniqueProfileRef}),
 * and a receiver holding two profiles with the same reference says so and uses neither.
 */
export const PROFILE_REF_BITS = 12;

/** The {@link PROFILE_REF_BITS}-bit reference of a profile. */
export function profileRef(profile: Uint8Array): number {
  return profileHash16(profile) & ((1 << PROFILE_REF_BITS) - 1);
}

const sameProfile = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** True when no other profile of `known` shares `profile`'s reference (so it may be sent by reference). */
export function uniqueProfileRef(profile: Uint8Array, known: Iterable<Uint8Array>): boolean {
  const ref = profileRef(profile);
  for (const k of known) if (profileRef(k) === ref && !sameProfile(k, profile)) return false;
  return true;
}

function medianF0OfProfile(bytes: Uint8Array): number | undefined {
  try {
    return decodeSpeakerProfile(bytes).medianF0Hz;
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
}

/**
 * The phrase prosody coder both ends of a message use: predictions start from the mode and are
 * re-anchored at each profile's median F0 (as src/pipeline/codecs.ts does for sessions). The sender
 * shares it with its analysis, which quantizes against the same predictions.
 */
export function messageProsodyCoder(mode: CodecMode): PhraseProsodyCoder {
  return new PhraseProsodyCoder(initialProsodyState(150, mode), true, medianF0OfProfile);
}

/** One phrase of a message. */
export interface MessagePhrase {
  /**
   * Start since the beginning of the message, ms. After decoding: a multiple of
   * {@link MESSAGE_TIME_UNIT_MS}, and the pause before it within 1/8 of the sent one (./message-time.ts).
   */
  startMs: number;
  text: string;
  prosody?: PhraseProsody;
  /** Word-level prosody detail (mode `high`), src/codec/prosody encodeProsodyDetail bytes. */
  detail?: Uint8Array;
}

/** What a decoded message contains, in order. */
export type MessageItem =
  | ({ type: 'phrase'; durationMs: number } & MessagePhrase)
  | { type: 'profile'; profile: Uint8Array; byHash: false }
  | { type: 'profile'; profile: Uint8Array | undefined; byHash: true; /** The {@link PROFILE_REF_BITS}-bit reference. */ ref: number };

/**
 * Writes one message: header, then items. Pure; the caller owns the prosody coder (shared with the
 * sender's analysis) and the text model. Byte offsets after each item let the caller say which part
 * carries which phrase.
 */
export class MessageWriter {
  private readonly enc = new RangeEncoder();
  private readonly text: TextCodingSession;
  private readonly items = itemModel();
  private readonly hasProsody = hasProsodyModel();
  private readonly clock = new PhraseClock();
  private readonly gaps = new MessageGapCoder();
  private first: FirstItem = 'other';
  private readonly sentInFull: Uint8Array[] = [];
  private count = 0;
  private done = false;

  constructor(
    model: TextModel,
    readonly mode: CodecMode,
    /** From {@link messageProsodyCoder}(mode), shared with the sender's analysis. */
    private readonly prosody: PhraseProsodyCoder,
  ) {
    this.text = new TextCodingSession(model);
    this.modelHash = model.hash;
  }

  private readonly modelHash: number;

  /** Approximate message bytes written so far (header included): where the last item ends. */
  get approxBytes(): number {
    return MESSAGE_HEADER_BYTES + this.enc.approxBytes;
  }

  private item(kind: number): void {
    if (this.done) throw new InvalidStateError('MessageWriter used after finish()');
    if (++this.count > MAX_MESSAGE_ITEMS) throw new EncodeError('too_large', `a message holds at most ${MAX_MESSAGE_ITEMS} items; split the recording`);
    // A profile as the very first item is named by the header's flags instead of a symbol.
    if (this.count === 1 && kind !== ITEM_PHRASE && kind !== ITEM_END) {
      this.first = kind === ITEM_PROFILE ? 'profile' : 'profileRef';
      return;
    }
    this.enc.channel = 'control';
    this.items.encode(this.enc, kind);
  }

  /**
   * The current speaker from here on (a 12-byte compact or 32-byte profile). `byHash`: the receiver
   * already holds this profile (a known-profiles list; the caller checks {@link uniqueProfileRef}), so
   * only its {@link PROFILE_REF_BITS}-bit reference goes into the message — unless a different
   * profile with that reference was sent in full earlier in this message (the receiver would take
   * that one). Returns whether the profile went by reference.
   */
  speaker(profile: Uint8Array, byHash: boolean): boolean {
    if (profile.length !== SPEAKER_PROFILE_BYTES && profile.length !== COMPACT_PROFILE_BYTES) throw new EncodeError('invalid_value', `a message carries ${COMPACT_PROFILE_BYTES}- or ${SPEAKER_PROFILE_BYTES}-byte DSP profiles; got ${profile.length} bytes`);
    // A reference the receiver would resolve to a profile sent in full earlier in this message: send it in full.
    const ref = profileRef(profile);
    const asRef = byHash && !this.sentInFull.some((p) => profileRef(p) === ref && !sameProfile(p, profile));
    this.item(asRef ? ITEM_PROFILE_REF : ITEM_PROFILE);
    this.enc.channel = 'speaker';
    if (asRef) this.enc.encodeBits(ref, PROFILE_REF_BITS);
    else {
      encodeProfileInMessage(this.enc, profile);
      this.sentInFull.push(profile);
    }
    this.prosody.speakerChanged(profile);
    return asRef;
  }

  /** One phrase, coded as LmPhraseCodec codes a TextSegment (text, prosody, start gap). */
  phrase(p: MessagePhrase): void {
    if (!Number.isFinite(p.startMs) || p.startMs < 0) throw new EncodeError('invalid_value', `phrase start must be ≥ 0 ms, got ${p.startMs}`);
    this.item(ITEM_PHRASE);
    const enc = this.enc;
    enc.channel = 'text';
    this.text.encode(p.text, enc);
    enc.channel = 'prosody';
    this.hasProsody.encode(enc, p.prosody === undefined ? 0 : 1);
    if (p.prosody !== undefined) {
      this.prosody.encode(p.prosody, enc, p.text);
      if (this.mode === 'high') {
        const detail = p.detail ?? new Uint8Array(0);
        if (detail.length > MAX_DETAIL_BYTES) throw new EncodeError('too_large', `prosody detail of ${detail.length} bytes exceeds ${MAX_DETAIL_BYTES}`);
        encodePhraseGap(enc, detail.length);
        for (const b of detail) enc.encodeBits(b, 8);
      }
    }
    enc.channel = 'time';
    // The start the receiver will see (./message-time.ts): the clock must follow it, not the exact one.
    const gap = quantizeMessageGap(Math.round(p.startMs / MESSAGE_TIME_UNIT_MS) - this.clock.predictedUnits);
    this.gaps.encode(enc, gap);
    const startUnits = Math.max(0, this.clock.predictedUnits + gap);
    this.clock.phrase(startUnits, this.prosody.durationMs(p.prosody, p.text) / MESSAGE_TIME_UNIT_MS);
    this.text.commit(p.text);
  }

  /** Information content so far per channel (text, prosody, speaker, time, control), bits. */
  get infoBits(): Record<string, number> {
    return Object.fromEntries(this.enc.infoBits);
  }

  /** Ends the message and returns its bytes (header + coded items). */
  finish(): Uint8Array {
    this.item(ITEM_END);
    this.done = true;
    const coded = this.enc.finish();
    const header = encodeMessageHeader({ formatVersion: MESSAGE_FORMAT_VERSION, codecVersion: CODEC_VERSION, mode: this.mode, first: this.first, modelHash: shortModelHash(this.modelHash) });
    const out = new Uint8Array(header.length + coded.length);
    out.set(header, 0);
    out.set(coded, header.length);
    if (out.length > MAX_MESSAGE_BYTES) throw new EncodeError('too_large', `message of ${out.length} bytes exceeds ${MAX_MESSAGE_BYTES}; split the recording`);
    return out;
  }
}

export interface DecodeMessageOptions {
  /**
   * Profiles the receiver holds, by {@link profileHash16}; a reference resolves to the one whose
   * {@link profileRef} it is (none when two share it: a warning, as for a profile not held).
   */
  knownProfiles?: ReadonlyMap<number, Uint8Array>;
  /**
   * `bytes` is only the start of a message (parts after a gap are missing): return the items
   * that were decoded from real bytes alone, instead of failing at the cut.
   */
  prefixOnly?: boolean;
}

export interface DecodedMessage {
  header: MessageHeader;
  items: MessageItem[];
  /** False when decoding stopped at the end of a prefix (see {@link DecodeMessageOptions.prefixOnly}). */
  complete: boolean;
  /** Message byte offset where each phrase's coded data ended (same order as the phrase items). */
  phraseEndOffsets: number[];
  warnings: string[];
}

/**
 * Decodes a whole message (or, with `prefixOnly`, the phrases before a cut). Total: anything that
 * is not a message this version wrote is a DecodeError (`truncated`, `malformed`,
 * `unsupported_version`, `too_large`, `model_mismatch`), never another exception.
 */
export function decodeMessage(bytes: Uint8Array, model: TextModel, options: DecodeMessageOptions = {}): DecodedMessage {
  if (bytes.length > MAX_MESSAGE_BYTES) throw new DecodeError('too_large', `message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  const header = decodeMessageHeader(bytes);
  if (header.codecVersion !== CODEC_VERSION) {
    throw new DecodeError('unsupported_version', `the message was coded with codec version ${header.codecVersion}, this receiver decodes version ${CODEC_VERSION}; install the same stcts version on both ends`, { streamVersion: header.codecVersion, localVersion: CODEC_VERSION });
  }
  if (header.modelHash !== shortModelHash(model.hash)) {
    throw new DecodeError('model_mismatch', `the message was coded with a text model of short hash ${header.modelHash.toString(16)}, this receiver has ${model.id} (${shortModelHash(model.hash).toString(16)}); install the same stcts version on both ends`);
  }
  const body = bytes.subarray(MESSAGE_HEADER_BYTES);
  const dec = new RangeDecoder(body);
  const text = new TextCodingSession(model);
  const items = itemModel();
  const hasProsody = hasProsodyModel();
  const clock = new PhraseClock();
  const gaps = new MessageGapCoder();
  const prosody = messageProsodyCoder(header.mode);
  const seen = new Map<number, Uint8Array>();
  const held = new Map<number, Uint8Array[]>();
  for (const p of options.knownProfiles?.values() ?? []) {
    const same = held.get(profileRef(p)) ?? [];
    if (!same.some((q) => sameProfile(q, p))) held.set(profileRef(p), [...same, p]);
  }
  const out: DecodedMessage = { header, items: [], complete: false, phraseEndOffsets: [], warnings: [] };
  // A prefix's items are trusted only while the decoder has read real bytes (no zero padding).
  const real = () => dec.overreadBytes === 0;
  try {
    for (let n = 0; ; n++) {
      if (n > MAX_MESSAGE_ITEMS) throw new DecodeError('too_large', `more than ${MAX_MESSAGE_ITEMS} items: not a message`);
      // Garbage or a cut message reads far past its end; a real one ends within the look-ahead.
      if (dec.overreadBytes > 16) throw new DecodeError('truncated', 'the message ends before its end marker (a part is missing or cut?)');
      const kind = n === 0 && header.first !== 'other' ? (header.first === 'profile' ? ITEM_PROFILE : ITEM_PROFILE_REF) : items.decode(dec);
      if (kind === ITEM_END) {
        dec.finish();
        out.complete = true;
        break;
      }
      if (kind === ITEM_PROFILE) {
        const profile = decodeProfileInMessage(dec);
        if (options.prefixOnly && !real()) break;
        seen.set(profileRef(profile), profile);
        prosody.speakerChanged(profile);
        out.items.push({ type: 'profile', profile, byHash: false });
      } else if (kind === ITEM_PROFILE_REF) {
        const ref = dec.decodeBits(PROFILE_REF_BITS);
        if (options.prefixOnly && !real()) break;
        const candidates = held.get(ref) ?? [];
        const profile = seen.get(ref) ?? (candidates.length === 1 ? candidates[0] : undefined);
        const name = ref.toString(16).padStart(3, '0');
        if (profile) prosody.speakerChanged(profile);
        else if (candidates.length > 1) out.warnings.push(`the message refers to speaker profile ${name}, and ${candidates.length} profiles this receiver holds have that reference: default voice, pitch levels off (keep one of them in --known-profiles)`);
        else out.warnings.push(`the message refers to speaker profile ${name}, which this receiver does not hold: default voice, pitch levels off (pass the sender's profiles with --known-profiles)`);
        out.items.push({ type: 'profile', profile, byHash: true, ref });
      } else {
        const t = text.decode(dec);
        let p: PhraseProsody | undefined;
        let detail: Uint8Array | undefined;
        if (hasProsody.decode(dec) === 1) {
          p = prosody.decode(dec, t);
          if (header.mode === 'high') {
            const len = decodePhraseGap(dec);
            if (len < 0 || len > MAX_DETAIL_BYTES) throw new DecodeError('malformed', `prosody detail of ${len} bytes`);
            detail = new Uint8Array(len);
            for (let i = 0; i < len; i++) detail[i] = dec.decodeBits(8);
          }
        }
        const gap = gaps.decode(dec);
        if (options.prefixOnly && !real()) break;
        const startUnits = Math.max(0, clock.predictedUnits + gap);
        const durationMs = prosody.durationMs(p, t);
        clock.phrase(startUnits, durationMs / MESSAGE_TIME_UNIT_MS);
        text.commit(t);
        out.items.push({ type: 'phrase', startMs: startUnits * MESSAGE_TIME_UNIT_MS, text: t, durationMs, ...(p ? { prosody: p } : {}), ...(detail ? { detail } : {}) });
        out.phraseEndOffsets.push(MESSAGE_HEADER_BYTES + Math.min(body.length, Math.max(0, dec.bytesConsumed - 6)));
      }
    }
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    if (!options.prefixOnly) throw err;
  }
  if (out.complete && body.length > dec.bytesConsumed) throw new DecodeError('malformed', `${body.length - dec.bytesConsumed} bytes after the end of the message`);
  return out;
}
