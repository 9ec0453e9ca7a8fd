/** Wire format version this code writes and reads. */
export const FORMAT_VERSION = 1;
/** Default unit of frame timestamps, ms (SessionHeader.time_unit_ms = 0 means this). */
export const DEFAULT_TIME_UNIT_MS = 40;
/** Largest frame (after the length prefix) a decoder accepts, bytes. */
export const MAX_FRAME_BYTES = 16 * 1024;

export type CodecMode = 'minimal' | 'balanced' | 'high';
export const CODEC_MODES: readonly CodecMode[] = ['minimal', 'balanced', 'high'];

export interface SessionHeaderPayload {
  type: 'sessionHeader';
  codecVersion: number;
  mode: CodecMode;
  textModelId: string;
  /** uint32 */
  textModelHash: number;
  sampleRateHz: number;
  timeUnitMs: number;
}

export interface TextPayload {
  type: 'text';
  /** 'lm': range-coded text + phrase prosody; 'utf8': plain UTF-8 text. */
  coding: 'lm' | 'utf8';
  coded: Uint8Array;
  /** Earlier text segments used as coder context; undefined = all of them. */
  contextSegments?: number;
}

export interface ProsodyPayload {
  type: 'prosody';
  /** seq of the TextSegment this frame details; undefined = the next frame (seq + 1). */
  textSeq?: number;
  coded: Uint8Array;
}

/** A quantized neural speaker embedding as carried in a SpeakerProfile frame (issue #9). */
export interface CodedSpeakerEmbedding {
  /** Bytes of src/codec/speaker quantizeEmbedding(), 1..{@link MAX_EMBEDDING_BYTES}, consistent with `dim`. */
  coded: Uint8Array;
  /** Number of values of the embedding (8..512). */
  dim: number;
  /** uint32: first 32 bits of SHA-256 of the encoder's model id (which embedding space). */
  encoderHash: number;
}

/** Largest quantized embedding a SpeakerProfile frame may carry, bytes. */
export const MAX_EMBEDDING_BYTES = 64;

export interface SpeakerProfilePayload {
  type: 'speakerProfile';
  id: number;
  profile: Uint8Array;
  /** Neural embedding of the same speech; absent when no speaker encoder was chosen. */
  embedding?: CodedSpeakerEmbedding;
}

export interface SpeakerRefPayload {
  type: 'speakerRef';
  id: number;
  /** uint32 content hash of the profile bytes. */
  profileHash: number;
}

export interface AckPayload {
  type: 'ack';
  cumulative: number;
  /** Bit i set = seq cumulative + 1 + i received (64 bits). */
  sack: bigint;
  nack: number[];
}

export type EndReason = 'normal' | 'senderAbort' | 'error';

export interface EndPayload {
  type: 'end';
  reason: EndReason;
}

/** A payload type this decoder does not know (sent by a newer encoder): skip it. */
export interface UnknownPayload {
  type: 'unknown';
}

export type FramePayload =
  | SessionHeaderPayload
  | TextPayload
  | ProsodyPayload
  | SpeakerProfilePayload
  | SpeakerRefPayload
  | AckPayload
  | EndPayload
  | UnknownPayload;

/** One frame with every envelope field resolved (nothing implied). */
export interface Frame {
  version: number;
  sessionId: number;
  seq: number;
  /** Timestamp in the session's time units (SessionHeader.timeUnitMs). */
  time: number;
  payload: FramePayload;
}

/**
 * What the reader and writer of one contiguous byte stream remember, so that envelope fields equal
 * to the implied value can be left out. A fresh context must be used for each independent stream
 * (a .stc file, one link packet).
 */
export interface FrameContext {
  sessionId: number | undefined;
  /** seq the next frame is assumed to have. */
  nextSeq: number;
  /** Timestamp of the previous frame. */
  time: number;
}

export function newFrameContext(): FrameContext {
  return { sessionId: undefined, nextSeq: 0, time: 0 };
}
