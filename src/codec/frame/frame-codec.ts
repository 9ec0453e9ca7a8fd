import protobuf from 'protobufjs';
import { DecodeError, EncodeError } from '../../core/errors.ts';
import { embeddingLayout } from '../speaker/embedding.ts';
import { FRAME_SCHEMA_JSON } from './schema.generated.ts';
import {
  type CodecMode,
  type EndReason,
  type Frame,
  type FrameContext,
  type FramePayload,
  type SpeakerProfilePayload,
  DEFAULT_TIME_UNIT_MS,
  FORMAT_VERSION,
  MAX_EMBEDDING_BYTES,
  MAX_FRAME_BYTES,
} from './types.ts';

const root = protobuf.Root.fromJSON(FRAME_SCHEMA_JSON as unknown as protobuf.INamespace);
const FrameType = root.lookupType('stcts.v1.Frame');

const MODE_TO_WIRE: Record<CodecMode, number> = { minimal: 1, balanced: 2, high: 3 };
const WIRE_TO_MODE: Record<number, CodecMode> = { 1: 'minimal', 2: 'balanced', 3: 'high' };
const END_TO_WIRE: Record<EndReason, number> = { normal: 0, senderAbort: 1, error: 2 };
const WIRE_TO_END: Record<number, EndReason> = { 0: 'normal', 1: 'senderAbort', 2: 'error' };
const U32_MAX = 0xffff_ffff;
const MAX_NACKS = 256;
const MAX_STRING_CHARS = 128;

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new EncodeError('invalid_value', `${name} must be a uint32, got ${v}`);
}

function payloadToMessage(p: FramePayload): Record<string, unknown> {
  switch (p.type) {
    case 'sessionHeader':
      checkU32('textModelHash', p.textModelHash);
      if (p.textModelId.length > MAX_STRING_CHARS) throw new EncodeError('too_large', 'textModelId is too long');
      return {
        sessionHeader: {
          codecVersion: p.codecVersion,
          mode: MODE_TO_WIRE[p.mode],
          textModelId: p.textModelId,
          textModelHash: p.textModelHash,
          sampleRateHz: p.sampleRateHz,
          timeUnitMs: p.timeUnitMs,
        },
      };
    case 'text':
      if (p.coding === 'lm' && p.contextSegments === undefined) return { textLm: p.coded };
      return { text: { coded: p.coded, coding: p.coding === 'utf8' ? 1 : 0, contextSegments: p.contextSegments } };
    case 'prosody':
      return { prosody: { textSeq: p.textSeq, coded: p.coded } };
    case 'speakerProfile': {
      const e = p.embedding;
      if (!e) return { speakerProfile: { id: p.id, profile: p.profile } };
      checkU32('encoderHash', e.encoderHash);
      const problem = embeddingProblem(e.coded.length, e.dim);
      if (problem) throw new EncodeError(problem.code === 'too_large' ? 'too_large' : 'invalid_value', problem.message);
      return { speakerProfile: { id: p.id, profile: p.profile, embedding: e.coded, encoderHash: e.encoderHash, embeddingDim: e.dim } };
    }
    case 'speakerRef':
      checkU32('profileHash', p.profileHash);
      return { speakerRef: { id: p.id, profileHash: p.profileHash } };
    case 'ack':
      if (p.nack.length > MAX_NACKS) throw new EncodeError('too_large', `at most ${MAX_NACKS} nacks per Ack`);
      return { ack: { cumulative: p.cumulative, sack: (protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): unknown }).fromString(p.sack.toString(), true), nack: p.nack } };
    case 'end':
      return { end: { reason: END_TO_WIRE[p.reason] } };
    case 'unknown':
      throw new EncodeError('invalid_value', 'cannot encode a frame of unknown type');
  }
}

function bytesOf(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? new Uint8Array(v) : new Uint8Array(0);
}

function longToBigInt(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  const l = v as { low: number; high: number };
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
}

// protobufjs decodes fields it was given; everything is re-validated here because the bytes are untrusted.
function messageToPayload(m: Record<string, any>): FramePayload {
  switch (m.payload as string | undefined) {
    case 'sessionHeader': {
      const h = m.sessionHeader;
      const mode = WIRE_TO_MODE[h.mode as number];
      if (!mode) throw new DecodeError('invalid_value', `unknown mode ${h.mode}`);
      if (h.textModelId.length > MAX_STRING_CHARS) throw new DecodeError('too_large', 'text model id too long');
      return {
        type: 'sessionHeader',
        codecVersion: h.codecVersion,
        mode,
        textModelId: h.textModelId,
        textModelHash: h.textModelHash >>> 0,
        sampleRateHz: h.sampleRateHz,
        timeUnitMs: h.timeUnitMs || DEFAULT_TIME_UNIT_MS,
      };
    }
    case 'text': {
      const t = m.text;
      if (t.coding !== 0 && t.coding !== 1) throw new DecodeError('invalid_value', `unknown text coding ${t.coding}`);
      const out: FramePayload = { type: 'text', coding: t.coding === 1 ? 'utf8' : 'lm', coded: bytesOf(t.coded) };
      if (t.contextSegments !== undefined && t.contextSegments !== null) out.contextSegments = t.contextSegments;
      return out;
    }
    case 'textLm':
      return { type: 'text', coding: 'lm', coded: bytesOf(m.textLm) };
    case 'prosody': {
      const out: FramePayload = { type: 'prosody', coded: bytesOf(m.prosody.coded) };
      if (m.prosody.textSeq !== undefined && m.prosody.textSeq !== null) out.textSeq = m.prosody.textSeq;
      return out;
    }
    case 'speakerProfile':
      return speakerProfileFromMessage(m.speakerProfile);
    case 'speakerRef':
      return { type: 'speakerRef', id: m.speakerRef.id, profileHash: m.speakerRef.profileHash >>> 0 };
    case 'ack': {
      const nack: number[] = m.ack.nack ?? [];
      if (nack.length > MAX_NACKS) throw new DecodeError('too_large', `Ack with ${nack.length} nacks (max ${MAX_NACKS})`);
      return { type: 'ack', cumulative: m.ack.cumulative, sack: longToBigInt(m.ack.sack), nack: [...nack] };
    }
    case 'end': {
      const reason = WIRE_TO_END[m.end.reason as number];
      return { type: 'end', reason: reason ?? 'error' };
    }
    default:
      return { type: 'unknown' };
  }
}

/** Why `bytes` coded bytes cannot be an embedding of `dim` values, or undefined when they can. */
function embeddingProblem(bytes: number, dim: number): { code: 'too_large' | 'malformed'; message: string } | undefined {
  if (bytes > MAX_EMBEDDING_BYTES) return { code: 'too_large', message: `speaker embedding of ${bytes} bytes exceeds ${MAX_EMBEDDING_BYTES}` };
  let want: number;
  try {
    want = embeddingLayout(dim).bytes;
  } catch {
    return { code: 'malformed', message: `speaker embedding dimension ${dim} is not supported` };
  }
  if (bytes !== want) return { code: 'malformed', message: `speaker embedding of ${dim} values takes ${want} bytes, got ${bytes}` };
  return undefined;
}

// An empty `embedding` means none; the other two fields are then ignored (proto3 defaults).
function speakerProfileFromMessage(sp: Record<string, any>): SpeakerProfilePayload {
  const out: SpeakerProfilePayload = { type: 'speakerProfile', id: sp.id, profile: bytesOf(sp.profile) };
  const coded = bytesOf(sp.embedding);
  if (coded.length === 0) return out;
  const dim = sp.embeddingDim as number;
  const problem = embeddingProblem(coded.length, dim);
  if (problem) throw new DecodeError(problem.code, problem.message);
  out.embedding = { coded, dim, encoderHash: (sp.encoderHash as number) >>> 0 };
  return out;
}

/**
 * Encodes one frame (without length prefix), leaving out envelope fields that `ctx` implies, and
 * advances `ctx`. Pass a fresh context per independent stream.
 */
export function encodeFrameBody(frame: Frame, ctx: FrameContext): Uint8Array {
  checkU32('seq', frame.seq);
  checkU32('time', frame.time);
  checkU32('sessionId', frame.sessionId);
  const msg: Record<string, unknown> = payloadToMessage(frame.payload);
  if (frame.version !== FORMAT_VERSION) msg.version = frame.version;
  if (frame.sessionId !== ctx.sessionId || frame.payload.type === 'sessionHeader') msg.sessionId = frame.sessionId;
  if (frame.seq !== ctx.nextSeq) msg.seq = frame.seq;
  if (frame.time < ctx.time) msg.timeAbs = frame.time;
  else if (frame.time !== ctx.time) msg.timeDelta = frame.time - ctx.time;
  const bytes = FrameType.encode(FrameType.fromObject(msg)).finish();
  if (bytes.length > MAX_FRAME_BYTES) {
    throw new EncodeError('too_large', `frame of ${bytes.length} bytes exceeds ${MAX_FRAME_BYTES}; split the segment`);
  }
  ctx.sessionId = frame.sessionId;
  ctx.nextSeq = frame.seq + 1;
  ctx.time = frame.time;
  return bytes;
}

/** Decodes one frame body (no length prefix), resolving implied fields from `ctx`, and advances `ctx`. */
export function decodeFrameBody(bytes: Uint8Array, ctx: FrameContext): Frame {
  if (bytes.length > MAX_FRAME_BYTES) throw new DecodeError('too_large', `frame of ${bytes.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  let m: Record<string, any>;
  try {
    m = FrameType.toObject(FrameType.decode(bytes), { oneofs: true, defaults: true, longs: Object, bytes: Uint8Array as any }) as Record<string, any>;
  } catch (err) {
    const truncated = err instanceof RangeError || /index out of range/.test(String(err));
    throw new DecodeError(truncated ? 'truncated' : 'malformed', `cannot parse frame: ${(err as Error).message}`);
  }
  const version = m.version ?? FORMAT_VERSION;
  if (version !== FORMAT_VERSION) {
    throw new DecodeError('unsupported_version', `frame format version ${version}; this decoder reads version ${FORMAT_VERSION}. Upgrade stcts.`);
  }
  const sessionId = m.sessionId ?? ctx.sessionId;
  if (sessionId === undefined) throw new DecodeError('malformed', 'frame without session id before any session header');
  const payload = messageToPayload(m);
  const frame: Frame = { version, sessionId: sessionId >>> 0, seq: m.seq ?? ctx.nextSeq, time: m.timeAbs ?? ctx.time + (m.timeDelta ?? 0), payload };
  ctx.sessionId = frame.sessionId;
  ctx.nextSeq = frame.seq + 1;
  ctx.time = frame.time;
  return frame;
}
