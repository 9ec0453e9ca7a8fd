import { DecodeError } from '../../core/errors.ts';
import { DEFAULT_TIME_UNIT_MS, type CodedSpeakerEmbedding, type Frame, type SessionHeaderPayload } from '../frame/index.ts';
import { speakerContentBytes } from '../speaker/content.ts';
import { dequantizeEmbedding } from '../speaker/embedding.ts';
import type { PhraseCodec } from './phrase-codec.ts';
import { CODEC_VERSION, splitBits } from './session-encoder.ts';
import { PhraseClock } from './phrase-time.ts';

/** What the receiver learns from frames, in order. */
export type SessionEvent<P> =
  | { type: 'session'; seq: number; header: SessionHeaderPayload; sessionId: number }
  | { type: 'speaker'; seq: number; startMs: number; id: number; profile: Uint8Array; profileHash: number; cached: boolean; embedding?: SpeakerEmbedding }
  | { type: 'phrase'; seq: number; startMs: number; text: string; prosody: P | undefined; speakerId: number | undefined; bitsByChannel: Record<string, number> }
  | { type: 'prosodyDetail'; seq: number; textSeq: number; coded: Uint8Array }
  | { type: 'end'; seq: number; endMs: number }
  | { type: 'warning'; seq: number; error: DecodeError };

/**
 * The neural speaker embedding a profile carried (issue #9). No TTS here renders it: it is for
 * comparison (cosine) in the embedding space named by `encoderHash`.
 */
export interface SpeakerEmbedding {
  /** Dequantized, unit-norm vector of `dim` values. */
  vector: Float32Array;
  dim: number;
  /** uint32 id of the embedding space (src/codec/speaker encoderHashOf(model id)). */
  encoderHash: number;
  /** The quantized bytes as received. */
  coded: Uint8Array;
}

/** Chooses the phrase codec for a session header; throws DecodeError('model_mismatch') when it cannot. */
export type PhraseCodecFactory<P> = (header: SessionHeaderPayload) => PhraseCodec<P>;

/**
 * Receiver side of a session: frames in (in order for text), events out. Keeps the text context in
 * step with the sender and a cache of speaker profiles by content hash, so a profile already seen
 * (e.g. before a reconnect) is usable from a SpeakerRef alone.
 */
export class SessionDecoder<P> {
  private header: SessionHeaderPayload | undefined;
  private codec: PhraseCodec<P> | undefined;
  private codecError: DecodeError | undefined;
  private speakerId: number | undefined;
  private clock = new PhraseClock();
  private readonly profilesById = new Map<number, { profile: Uint8Array; hash: number; embedding?: SpeakerEmbedding }>();

  constructor(
    private readonly codecFor: PhraseCodecFactory<P>,
    /** Profiles by content hash, shared across sessions (a reconnect costs nothing). */
    private readonly profileCache: Map<number, Uint8Array> = new Map(),
    private readonly hashProfile: (bytes: Uint8Array) => number = () => 0,
    /** Embeddings by content hash, shared like `profileCache` (a caller that passes none loses them on reconnect). */
    private readonly embeddingCache: Map<number, SpeakerEmbedding> = new Map(),
  ) {}

  get timeUnitMs(): number {
    return this.header?.timeUnitMs ?? DEFAULT_TIME_UNIT_MS;
  }

  /** Decodes one frame. Recoverable problems become `warning` events; a model mismatch throws. */
  accept(frame: Frame): SessionEvent<P>[] {
    const p = frame.payload;
    const ms = frame.time * this.timeUnitMs;
    switch (p.type) {
      case 'sessionHeader':
        this.header = p;
        this.codec = undefined;
        this.clock = new PhraseClock();
        try {
          if (p.codecVersion !== CODEC_VERSION) {
            throw new DecodeError('unsupported_version', `the stream was coded with codec version ${p.codecVersion}, this receiver decodes version ${CODEC_VERSION}; install the same stcts version on both ends`, { streamVersion: p.codecVersion, localVersion: CODEC_VERSION });
          }
          this.codec = this.codecFor(p);
          this.codecError = undefined;
        } catch (err) {
          if (err instanceof DecodeError) this.codecError = err;
          throw err;
        }
        return [{ type: 'session', seq: frame.seq, header: p, sessionId: frame.sessionId }];
      case 'speakerProfile': {
        this.clock.sawFrame(frame.time);
        // The hash covers the embedding too (the sender's SpeakerRef carries the same one).
        const hash = this.hashProfile(speakerContentBytes(p.profile, p.embedding));
        const embedding = p.embedding && toSpeakerEmbedding(p.embedding);
        this.profilesById.set(p.id, { profile: p.profile, hash, ...(embedding ? { embedding } : {}) });
        this.profileCache.set(hash, p.profile);
        if (embedding) this.embeddingCache.set(hash, embedding);
        this.speakerId = p.id;
        this.codec?.speakerChanged?.(p.profile);
        return [{ type: 'speaker', seq: frame.seq, startMs: ms, id: p.id, profile: p.profile, profileHash: hash, cached: false, ...(embedding ? { embedding } : {}) }];
      }
      case 'speakerRef': {
        this.clock.sawFrame(frame.time);
        const known = this.profilesById.get(p.id);
        const cached = known?.profile ?? this.profileCache.get(p.profileHash);
        this.speakerId = p.id;
        if (!cached) {
          return [{ type: 'warning', seq: frame.seq, error: new DecodeError('invalid_value', `SpeakerRef ${p.id} to a profile this receiver never saw; using the default voice`) }];
        }
        const embedding = known?.embedding ?? this.embeddingCache.get(p.profileHash);
        this.profilesById.set(p.id, { profile: cached, hash: p.profileHash, ...(embedding ? { embedding } : {}) });
        this.codec?.speakerChanged?.(cached);
        return [{ type: 'speaker', seq: frame.seq, startMs: ms, id: p.id, profile: cached, profileHash: p.profileHash, cached: !known, ...(embedding ? { embedding } : {}) }];
      }
      case 'text': {
        if (!this.codec) {
          const error = this.codecError
            ? new DecodeError(this.codecError.code, `text skipped: ${this.codecError.message}`)
            : new DecodeError('malformed', 'text frame before the session header; skipped');
          return [{ type: 'warning', seq: frame.seq, error }];
        }
        if (p.coding !== this.codec.coding) {
          return [{ type: 'warning', seq: frame.seq, error: new DecodeError('invalid_value', `text coded as ${p.coding} in a ${this.codec.coding} session; skipped`) }];
        }
        const context = p.contextSegments ?? this.codec.committedSegments;
        if (context !== this.codec.committedSegments) {
          return [{ type: 'warning', seq: frame.seq, error: new DecodeError('model_mismatch', `segment coded with ${context} context segments, receiver has ${this.codec.committedSegments}; skipped`) }];
        }
        try {
          const { text, prosody, gapUnits, bitsByChannel } = this.codec.decode(p.coded);
          this.codec.commit(text);
          let startMs = ms;
          if (this.codec.inbandTime) {
            const startUnits = Math.max(0, this.clock.predictedUnits + (gapUnits ?? 0));
            this.clock.phrase(startUnits, (this.codec.expectedDurationMs?.(text, prosody) ?? 0) / this.timeUnitMs);
            startMs = startUnits * this.timeUnitMs;
          }
          const bits = splitBits(p.coded.length * 8, bitsByChannel ?? { text: 1 });
          return [{ type: 'phrase', seq: frame.seq, startMs, text, prosody, speakerId: this.speakerId, bitsByChannel: bits }];
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          return [{ type: 'warning', seq: frame.seq, error: err }];
        }
      }
      case 'prosody':
        return [{ type: 'prosodyDetail', seq: frame.seq, textSeq: p.textSeq ?? frame.seq + 1, coded: p.coded }];
      case 'end':
        this.clock.sawFrame(frame.time);
        return [{ type: 'end', seq: frame.seq, endMs: ms }];
      case 'ack':
        return [];
      case 'unknown':
        return [{ type: 'warning', seq: frame.seq, error: new DecodeError('invalid_value', `frame ${frame.seq} has a payload type this version does not know; skipped`) }];
    }
  }
}

/** The frame layer already checked that the bytes fit the dimension. */
function toSpeakerEmbedding(e: CodedSpeakerEmbedding): SpeakerEmbedding {
  return { vector: dequantizeEmbedding(e.coded, e.dim), dim: e.dim, encoderHash: e.encoderHash, coded: e.coded };
}
