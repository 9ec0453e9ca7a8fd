import type { Frame, StreamItem } from '../codec/frame/index.ts';
import { SessionDecoder, type SessionEvent } from '../codec/session/index.ts';
import { DecodeError } from '../core/errors.ts';
import { encoderHashOf } from '../codec/speaker/index.ts';
import { listSpeakerEncoders } from '../engines/speaker/neural/index.ts';
import { phraseCodecFactory, profileHashOf, describeEmbedding, describeProsody, describeProfile } from './codecs.ts';

/** Encoder hash → model id for the speaker encoders of the manifest (empty if it cannot be read). */
function knownSpeakerEncoders(): Map<number, string> {
  try {
    return new Map(listSpeakerEncoders().map((e) => [encoderHashOf(e.id), e.id]));
  } catch {
    return new Map();
  }
}

export interface InspectedFrame {
  offset: number;
  /** Bits this frame occupies on the wire, length prefix included. */
  wireBits: number;
  type: string;
  seq?: number;
  timeMs?: number;
  /** Payload bits per stream; the rest of wireBits is framing overhead. */
  bits: Record<string, number>;
  content: unknown;
  error?: { code: string; message: string };
}

export interface Inspection {
  bytes: number;
  bits: number;
  /** Span of the session from its first to its last timestamp, seconds. */
  durationSec: number;
  bitsPerSecond: number | null;
  transcript: string;
  totals: { text: number; prosody: number; speaker: number; overhead: number; total: number };
  frames: InspectedFrame[];
  warnings: string[];
}

/** Decodes a frame stream into a per-frame report with bit accounting. */
export async function inspectStc(bytes: Uint8Array, items: StreamItem[]): Promise<Inspection> {
  const decoder = new SessionDecoder(await phraseCodecFactory(), new Map(), profileHashOf);
  const encoders = knownSpeakerEncoders();
  const frames: InspectedFrame[] = [];
  const warnings: string[] = [];
  const phrases: string[] = [];
  const totals = { text: 0, prosody: 0, speaker: 0, overhead: 0, total: bytes.length * 8 };
  let lastMs = 0;
  for (const it of items) {
    const wireBits = it.wireBytes * 8;
    if (!it.ok) {
      frames.push({ offset: it.offset, wireBits, type: 'corrupt', bits: {}, content: null, error: { code: it.error.code, message: it.error.message } });
      warnings.push(`frame at byte ${it.offset} skipped: ${it.error.code}: ${it.error.message}`);
      totals.overhead += wireBits;
      continue;
    }
    let events: SessionEvent<unknown>[];
    try {
      events = decoder.accept(it.frame);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      events = [{ type: 'warning', seq: it.frame.seq, error: err }];
    }
    const entry = describeFrame(it.frame, events, decoder.timeUnitMs, wireBits, encoders);
    lastMs = Math.max(lastMs, entry.timeMs ?? 0);
    for (const e of events) {
      if (e.type === 'phrase') phrases.push(e.text);
      if (e.type === 'warning') {
        warnings.push(`frame ${e.seq}: ${e.error.code}: ${e.error.message}`);
        entry.error = { code: e.error.code, message: e.error.message };
      }
    }
    let payloadBits = 0;
    for (const [k, v] of Object.entries(entry.bits)) {
      const key = k === 'text' || k === 'prosody' || k === 'speaker' ? k : 'overhead';
      totals[key] += v;
      payloadBits += v;
    }
    totals.overhead += wireBits - payloadBits;
    frames.push(entry);
  }
  const durationSec = lastMs / 1000;
  return {
    bytes: bytes.length,
    bits: bytes.length * 8,
    durationSec,
    bitsPerSecond: durationSec > 0 ? (bytes.length * 8) / durationSec : null,
    transcript: phrases.join(' '),
    totals,
    frames,
    warnings,
  };
}

function describeFrame(frame: Frame, events: SessionEvent<unknown>[], timeUnitMs: number, wireBits: number, encoders: Map<number, string>): InspectedFrame {
  const p = frame.payload;
  const phrase = events.find((e) => e.type === 'phrase');
  // A TextSegment's start travels in-band (its envelope time is implied): show the decoded start.
  const timeMs = phrase?.type === 'phrase' ? phrase.startMs : frame.time * timeUnitMs;
  const base = { offset: 0, wireBits, type: p.type, seq: frame.seq, timeMs };
  switch (p.type) {
    case 'text':
      return {
        ...base,
        bits: phrase?.type === 'phrase' ? phrase.bitsByChannel : { text: p.coded.length * 8 },
        content: phrase?.type === 'phrase'
          ? { coding: p.coding, text: phrase.text, prosody: describeProsody(phrase.prosody), codedBytes: p.coded.length }
          : { coding: p.coding, codedBytes: p.coded.length },
      };
    case 'prosody':
      return { ...base, bits: { prosody: p.coded.length * 8 }, content: { textSeq: p.textSeq, codedBytes: p.coded.length } };
    case 'speakerProfile': {
      const spk = events.find((e) => e.type === 'speaker');
      const emb = spk?.type === 'speaker' ? spk.embedding : undefined;
      const content = { id: p.id, bytes: p.profile.length, profile: describeProfile(p.profile), ...(emb ? { embedding: describeEmbedding(emb, encoders.get(emb.encoderHash)) } : {}) };
      return { ...base, bits: { speaker: (p.profile.length + (p.embedding?.coded.length ?? 0)) * 8 }, content };
    }
    case 'speakerRef':
      return { ...base, bits: { speaker: 0 }, content: { id: p.id, profileHash: p.profileHash } };
    case 'sessionHeader':
      return { ...base, bits: {}, content: { ...p, type: undefined } };
    default:
      return { ...base, bits: {}, content: { ...p, type: undefined } };
  }
}

/** Human-readable report. */
export function formatInspection(r: Inspection): string {
  const lines: string[] = [];
  lines.push(`${r.bytes} bytes = ${r.bits} bits over ${r.durationSec.toFixed(2)} s` + (r.bitsPerSecond ? ` → ${r.bitsPerSecond.toFixed(1)} bit/s` : ''));
  lines.push('');
  lines.push(' seq   time s  bits  type            content');
  for (const f of r.frames) {
    const content = f.error && f.type === 'corrupt' ? `${f.error.code}: ${f.error.message}` : summarize(f);
    lines.push(`${String(f.seq ?? '-').padStart(4)} ${((f.timeMs ?? 0) / 1000).toFixed(2).padStart(8)} ${String(f.wireBits).padStart(5)}  ${f.type.padEnd(15)} ${content}`);
  }
  lines.push('');
  lines.push(`transcript: ${r.transcript}`);
  const t = r.totals;
  const pct = (v: number) => (t.total ? ((100 * v) / t.total).toFixed(0) : '0');
  lines.push(`bits: text ${t.text} (${pct(t.text)}%), prosody ${t.prosody} (${pct(t.prosody)}%), speaker ${t.speaker} (${pct(t.speaker)}%), overhead ${t.overhead} (${pct(t.overhead)}%), total ${t.total}`);
  return lines.join('\n') + '\n';
}

function summarize(f: InspectedFrame): string {
  const c = f.content as Record<string, unknown> | null;
  if (!c) return '';
  if (f.type === 'text') {
    const bits = Object.entries(f.bits).map(([k, v]) => `${k} ${v}`).join(', ');
    const pros = c.prosody ? ` | prosody ${JSON.stringify(c.prosody)}` : '';
    return `"${String(c.text ?? '')}" [${bits}]${pros}`;
  }
  return JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `${v.length} bytes` : v));
}
