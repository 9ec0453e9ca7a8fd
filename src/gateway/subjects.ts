import { decodeFrameStream, encodeFrameStream, type Frame } from '../codec/frame/index.ts';
import { DecodeError } from '../core/errors.ts';

/**
 * Names of everything the gateway keeps in NATS JetStream (issue #18). All state that must outlive
 * a process lives here, so any gateway node can terminate a vessel's link and any worker can own
 * any session:
 *
 * - stream `STCTS_UP`: the decoded, in-order frames of every ship→shore session, one subject per
 *   vessel and session (`stcts.v1.up.<vessel>.<session>`), deduplicated by `Nats-Msg-Id`
 *   `up.<session>.<seq>` (a terminator's retried publish is stored once);
 * - stream `STCTS_PCM`: the rendered speech, one message per phrase (or part of a long phrase) on
 *   `stcts.v1.pcm.<session>`, deduplicated by `pcm.<session>.<seq>.<part>`: the last message of a
 *   session's subject is the rendering checkpoint a new owner resumes after;
 * - KV `stcts_calls`: one entry per active session (vessel, subject), deleted at its End: what workers look for;
 * - KV `stcts_leases`: one entry per owned session (owner id), heartbeated by revision (CAS).
 */
export const UP_STREAM = 'STCTS_UP';
export const PCM_STREAM = 'STCTS_PCM';
export const CALLS_BUCKET = 'stcts_calls';
export const LEASES_BUCKET = 'stcts_leases';
export const UP_PREFIX = 'stcts.v1.up';
export const PCM_PREFIX = 'stcts.v1.pcm';

/** Vessel names become one subject token: letters, digits, `-` and `_` only. */
const VESSEL_TOKEN = /^[A-Za-z0-9_-]{1,63}$/;

export const isValidVesselName = (name: string): boolean => VESSEL_TOKEN.test(name);

/** Subject of one session's ship→shore frames. */
export function upSubject(vessel: string, sessionId: number): string {
  if (!isValidVesselName(vessel)) throw new DecodeError('malformed', `vessel name '${vessel}' is not a subject token (letters, digits, - and _)`);
  return `${UP_PREFIX}.${vessel}.${sessionId >>> 0}`;
}

/** Subject of one session's rendered PCM (any node may subscribe: `stcts.v1.pcm.>` for all). */
export const pcmSubject = (sessionId: number): string => `${PCM_PREFIX}.${sessionId >>> 0}`;

export const upMsgId = (sessionId: number, seq: number): string => `up.${sessionId >>> 0}.${seq}`;
export const pcmMsgId = (sessionId: number, seq: number, part: number): string => `pcm.${sessionId >>> 0}.${seq}.${part}`;
export const sessionKey = (sessionId: number): string => String(sessionId >>> 0);

/** One frame as a message body (a one-item .stc stream: the frame names its session and seq in full). */
export const encodeFrameMessage = (frame: Frame): Uint8Array => encodeFrameStream([frame]);

/** The frame of a message body; DecodeError for anything else. */
export function decodeFrameMessage(bytes: Uint8Array): Frame {
  const items = decodeFrameStream(bytes);
  const first = items[0];
  if (items.length !== 1 || !first) throw new DecodeError('malformed', 'a gateway frame message holds exactly one frame');
  if (!first.ok) throw first.error;
  return first.frame;
}

/** A call as the registry (KV `stcts_calls`) holds it. */
export interface CallRecord {
  sessionId: number;
  vessel: string;
  subject: string;
  state: 'active' | 'done';
  /** Wall-clock start, ms since the epoch (for listings only: nothing compares clocks across nodes). */
  startedAtMs: number;
}

/** Headers of a rendered-PCM message. */
export const PCM_HEADERS = {
  seq: 'Stcts-Seq',
  part: 'Stcts-Part',
  parts: 'Stcts-Parts',
  startMs: 'Stcts-Start-Ms',
  rateHz: 'Stcts-Rate-Hz',
  text: 'Stcts-Text',
  end: 'Stcts-End',
  /** performance.timeOrigin + now() when the frame reached the terminator (for the latency bench). */
  arrivedAtMs: 'Stcts-Arrived-At-Ms',
} as const;
