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
 * - stream `STCTS_TALK`: what a shore client says to a vessel (shore→ship), raw s16le 16 kHz PCM in
 *   order on `stcts.v1.talk.<session>`, deduplicated by `talk.<session>.<n>`, a last empty message
 *   with `Stcts-End: 1`;
 * - stream `STCTS_DOWN`: the frames a worker's sender pipeline coded from that speech, on
 *   `stcts.v1.down.<vessel>.<session>`, deduplicated by `down.<session>.<seq>`; whichever node
 *   holds the vessel's link sends them through the ARQ;
 * - core subject `stcts.v1.delivered.<session>` (not stored): the vessel's acknowledgements of a
 *   shore→ship session, for the talking shore client;
 * - stream `STCTS_MO`: Iridium SBD mobile-originated payloads as DirectIP delivered them (one
 *   voice-message part each), on `stcts.v1.mo.<vessel>`, deduplicated by `mo.<imei>.<momsn>.<cdr>`
 *   (Iridium's redelivery of one session is stored once); a complete message becomes a call of
 *   direction `message` whose record names its parts' stream sequences;
 * - KV `stcts_mo`: per vessel and 7-bit message id, the last completed message (its parts'
 *   checksums and last stream sequence), so a part the modem sent again is not taken for a new one;
 * - KV `stcts_calls`: one entry per active session (vessel, subject, direction), deleted at its End
 *   (a shore→ship one once the vessel acknowledged its End): what workers and terminators look for;
 * - KV `stcts_leases`: one entry per owned session (owner id), heartbeated by revision (CAS).
 */
export const UP_STREAM = 'STCTS_UP';
export const PCM_STREAM = 'STCTS_PCM';
export const CALLS_BUCKET = 'stcts_calls';
export const LEASES_BUCKET = 'stcts_leases';
export const UP_PREFIX = 'stcts.v1.up';
export const PCM_PREFIX = 'stcts.v1.pcm';
export const TALK_STREAM = 'STCTS_TALK';
export const DOWN_STREAM = 'STCTS_DOWN';
export const TALK_PREFIX = 'stcts.v1.talk';
export const DOWN_PREFIX = 'stcts.v1.down';
export const DELIVERED_PREFIX = 'stcts.v1.delivered';
export const MO_STREAM = 'STCTS_MO';
export const MO_PREFIX = 'stcts.v1.mo';
export const MO_BUCKET = 'stcts_mo';

/** Vessel names become one subject token: letters, digits, `-` and `_` only. */
const VESSEL_TOKEN = /^[A-Za-z0-9_-]{1,63}$/;

export const isValidVesselName = (name: string): boolean => VESSEL_TOKEN.test(name);

/** Subject of one session's ship→shore frames. */
export function upSubject(vessel: string, sessionId: number): string {
  if (!isValidVesselName(vessel)) throw new DecodeError('malformed', `vessel name '${vessel}' is not a subject token (letters, digits, - and _)`);
  return `${UP_PREFIX}.${vessel}.${sessionId >>> 0}`;
}

/** Subject of one shore→ship session's frames (coded by a worker, sent by the vessel's terminator). */
export function downSubject(vessel: string, sessionId: number): string {
  if (!isValidVesselName(vessel)) throw new DecodeError('malformed', `vessel name '${vessel}' is not a subject token (letters, digits, - and _)`);
  return `${DOWN_PREFIX}.${vessel}.${sessionId >>> 0}`;
}

/** Subject of one vessel's Iridium SBD mobile-originated payloads. */
export function moSubject(vessel: string): string {
  if (!isValidVesselName(vessel)) throw new DecodeError('malformed', `vessel name '${vessel}' is not a subject token (letters, digits, - and _)`);
  return `${MO_PREFIX}.${vessel}`;
}
export const moMsgId = (imei: string, momsn: number, cdrReference: number): string => `mo.${imei}.${momsn}.${cdrReference >>> 0}`;

/** Subject of one shore→ship session's speech (shore client → worker). */
export const talkSubject = (sessionId: number): string => `${TALK_PREFIX}.${sessionId >>> 0}`;
/** Core subject of the vessel's acknowledgements of a shore→ship session. */
export const deliveredSubject = (sessionId: number): string => `${DELIVERED_PREFIX}.${sessionId >>> 0}`;
export const downMsgId = (sessionId: number, seq: number): string => `down.${sessionId >>> 0}.${seq}`;
export const talkMsgId = (sessionId: number, n: number): string => `talk.${sessionId >>> 0}.${n}`;

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
  /** Ship→shore: the frames' subject; shore→ship: the speech's (talk) subject. */
  subject: string;
  /**
   * `up` (absent in records of older nodes): ship→shore, the vessel's frames rendered by a worker.
   * `down`: shore→ship, a shore client's speech coded by a worker and sent to the vessel.
   */
  direction?: 'up' | 'down' | 'message';
  /** `down`: the coded frames' subject. */
  downSubject?: string;
  /** `down` to a vessel reached only by Iridium SBD: coded as one voice message once the talk ended, sent through DirectIP MT. */
  via?: 'sbd';
  /** `message` (an Iridium SBD voice message; `subject` is the vessel's MO subject): its parts' stream sequences in STCTS_MO, in part order. */
  parts?: number[];
  /** Ship→shore: `done` once rendered to its End. Shore→ship: `done` once coded to its End (the record stays until the vessel acknowledged it). */
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
  /** On an End: why the session could not be rendered (a voice message that does not decode), `code: message`. */
  error: 'Stcts-Error',
  /** A shore→ship frame message: the phrase text of a TextSegment (URI-encoded), for the talking client. */
  phraseText: 'Stcts-Phrase-Text',
  /** performance.timeOrigin + now() when the frame reached the terminator (for the latency bench). */
  arrivedAtMs: 'Stcts-Arrived-At-Ms',
  /** An MO payload: the sending modem, its MOMSN, Iridium's CDR reference, the session time (s since the epoch). */
  imei: 'Stcts-Imei',
  momsn: 'Stcts-Momsn',
  cdr: 'Stcts-Cdr',
  sessionTimeS: 'Stcts-Session-Time-S',
} as const;
