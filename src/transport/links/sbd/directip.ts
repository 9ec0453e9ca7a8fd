import { DecodeError, EncodeError } from '../../../core/errors.ts';

/**
 * Iridium SBD DirectIP, mobile-originated side (what Iridium's gateway sends to a customer's
 * server over TCP, one message per connection): a protocol revision byte (1), the length of what
 * follows (2 bytes, big-endian), then information elements, each `IEI(1) length(2) content`:
 * - 0x01 MO header, 28 bytes: CDR reference (4), IMEI (15 ASCII digits), session status (1),
 *   MOMSN (2), MTMSN (2), time of session (4, seconds since the Unix epoch);
 * - 0x02 MO payload, 1–1960 bytes (absent when the session carried none);
 * - 0x03 MO location, 11 bytes (kept opaque);
 * and the customer's answer on the same connection, 0x05 MO confirmation (1 byte: 1 stored, 0 not).
 * Pure: bytes in, values or a typed {@link DecodeError} out.
 */
export const DIRECTIP_REVISION = 1;
export const DIRECTIP_PREAMBLE_BYTES = 3;
export const IEI_MO_HEADER = 0x01;
export const IEI_MO_PAYLOAD = 0x02;
export const IEI_MO_LOCATION = 0x03;
export const IEI_MO_CONFIRMATION = 0x05;
const MO_HEADER_BYTES = 28;
const MO_LOCATION_BYTES = 11;
/** Largest MO payload DirectIP carries (a 9522B's; a 9602/9603 sends at most 340). */
export const DIRECTIP_MO_PAYLOAD_MAX = 1960;
/** Largest whole MO message we accept (header, location and the largest payload, with IE headers). */
export const DIRECTIP_MO_MAX_BYTES = DIRECTIP_PREAMBLE_BYTES + 3 + MO_HEADER_BYTES + 3 + MO_LOCATION_BYTES + 3 + DIRECTIP_MO_PAYLOAD_MAX;

export interface MoHeader {
  /** Iridium's unique call-data-record reference of the session. */
  cdrReference: number;
  /** The sending modem, 15 digits. */
  imei: string;
  /** 0 success, 1 success but the MT message was too large, 2 success but poor location; ≥ 10 failed (no payload). */
  sessionStatus: number;
  /** The modem's mobile-originated message sequence number (16 bits, wraps). */
  momsn: number;
  mtmsn: number;
  /** Seconds since the Unix epoch, UTC. */
  sessionTimeS: number;
}

export interface MoMessage {
  header: MoHeader;
  /** Absent when the session carried no payload (a mailbox check, a failed session). */
  payload?: Uint8Array;
  /** The 11 opaque bytes of the location IE, when sent. */
  location?: Uint8Array;
}

/** Session statuses that deliver a payload. */
export const moSessionDelivered = (status: number): boolean => status === 0 || status === 1 || status === 2;

const IMEI = /^\d{15}$/;
export const isValidImei = (imei: string): boolean => IMEI.test(imei);

/** Total length of a DirectIP message whose 3-byte preamble is `head`. DecodeError for a wrong revision. */
export function directIpMessageLength(head: Uint8Array): number {
  if (head.length < DIRECTIP_PREAMBLE_BYTES) throw new DecodeError('truncated', `a DirectIP message starts with ${DIRECTIP_PREAMBLE_BYTES} bytes; got ${head.length}`);
  if (head[0] !== DIRECTIP_REVISION) throw new DecodeError('unsupported_version', `DirectIP protocol revision ${head[0]}; only ${DIRECTIP_REVISION} is known`);
  return DIRECTIP_PREAMBLE_BYTES + ((head[1]! << 8) | head[2]!);
}

/** Splits the information elements of a whole message. */
function elements(bytes: Uint8Array): Array<{ iei: number; content: Uint8Array }> {
  const total = directIpMessageLength(bytes);
  if (bytes.length !== total) throw new DecodeError(bytes.length < total ? 'truncated' : 'malformed', `DirectIP message announces ${total} bytes; got ${bytes.length}`);
  const out: Array<{ iei: number; content: Uint8Array }> = [];
  let at = DIRECTIP_PREAMBLE_BYTES;
  while (at < total) {
    if (total - at < 3) throw new DecodeError('truncated', `information element header cut at byte ${at}`);
    const iei = bytes[at]!;
    const len = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    at += 3;
    if (at + len > total) throw new DecodeError('truncated', `information element 0x${iei.toString(16)} announces ${len} bytes; ${total - at} remain`);
    out.push({ iei, content: bytes.slice(at, at + len) });
    at += len;
  }
  return out;
}

/** Parses one whole MO message. DecodeError `truncated` / `malformed` / `unsupported_version` / `too_large`. */
export function parseMoMessage(bytes: Uint8Array): MoMessage {
  if (bytes.length > DIRECTIP_MO_MAX_BYTES) throw new DecodeError('too_large', `a DirectIP MO message has at most ${DIRECTIP_MO_MAX_BYTES} bytes; got ${bytes.length}`);
  let header: MoHeader | undefined;
  let payload: Uint8Array | undefined;
  let location: Uint8Array | undefined;
  for (const { iei, content } of elements(bytes)) {
    if (iei === IEI_MO_HEADER) {
      if (header) throw new DecodeError('malformed', 'two MO header elements');
      if (content.length !== MO_HEADER_BYTES) throw new DecodeError('malformed', `the MO header has ${MO_HEADER_BYTES} bytes; got ${content.length}`);
      const v = new DataView(content.buffer, content.byteOffset, content.byteLength);
      const imei = String.fromCharCode(...content.subarray(4, 19));
      if (!isValidImei(imei)) throw new DecodeError('malformed', 'the MO header\'s IMEI is not 15 digits');
      header = { cdrReference: v.getUint32(0), imei, sessionStatus: content[19]!, momsn: v.getUint16(20), mtmsn: v.getUint16(22), sessionTimeS: v.getUint32(24) };
    } else if (iei === IEI_MO_PAYLOAD) {
      if (payload) throw new DecodeError('malformed', 'two MO payload elements');
      if (content.length === 0 || content.length > DIRECTIP_MO_PAYLOAD_MAX) throw new DecodeError('malformed', `an MO payload has 1–${DIRECTIP_MO_PAYLOAD_MAX} bytes; got ${content.length}`);
      payload = content;
    } else if (iei === IEI_MO_LOCATION) {
      if (content.length !== MO_LOCATION_BYTES) throw new DecodeError('malformed', `the MO location has ${MO_LOCATION_BYTES} bytes; got ${content.length}`);
      location = content;
    }
    // Other elements (newer revisions of the service) are skipped.
  }
  if (!header) throw new DecodeError('malformed', 'a DirectIP MO message without an MO header');
  return { header, ...(payload ? { payload } : {}), ...(location ? { location } : {}) };
}

function ie(iei: number, content: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + content.length);
  out[0] = iei;
  out[1] = content.length >> 8;
  out[2] = content.length & 0xff;
  out.set(content, 3);
  return out;
}

function message(ies: Uint8Array[]): Uint8Array {
  const len = ies.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(DIRECTIP_PREAMBLE_BYTES + len);
  out[0] = DIRECTIP_REVISION;
  out[1] = len >> 8;
  out[2] = len & 0xff;
  let at = DIRECTIP_PREAMBLE_BYTES;
  for (const b of ies) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Builds an MO message as Iridium's gateway sends it (ground-station emulators and tests). */
export function encodeMoMessage(m: MoMessage): Uint8Array {
  const h = m.header;
  if (!isValidImei(h.imei)) throw new EncodeError('invalid_value', `IMEI '${h.imei}' is not 15 digits`);
  if (m.payload && (m.payload.length === 0 || m.payload.length > DIRECTIP_MO_PAYLOAD_MAX)) throw new EncodeError('invalid_value', `an MO payload has 1–${DIRECTIP_MO_PAYLOAD_MAX} bytes; got ${m.payload.length}`);
  const head = new Uint8Array(MO_HEADER_BYTES);
  const v = new DataView(head.buffer);
  v.setUint32(0, h.cdrReference >>> 0);
  head.set(new TextEncoder().encode(h.imei), 4);
  head[19] = h.sessionStatus & 0xff;
  v.setUint16(20, h.momsn & 0xffff);
  v.setUint16(22, h.mtmsn & 0xffff);
  v.setUint32(24, h.sessionTimeS >>> 0);
  const ies = [ie(IEI_MO_HEADER, head)];
  if (m.payload) ies.push(ie(IEI_MO_PAYLOAD, m.payload));
  if (m.location) ies.push(ie(IEI_MO_LOCATION, m.location));
  return message(ies);
}

/** The customer's answer: stored (1) or not (0). */
export const encodeMoConfirmation = (stored: boolean): Uint8Array => message([ie(IEI_MO_CONFIRMATION, Uint8Array.of(stored ? 1 : 0))]);

/** Reads an MO confirmation: true = stored. DecodeError for anything else. */
export function parseMoConfirmation(bytes: Uint8Array): boolean {
  const e = elements(bytes).find((x) => x.iei === IEI_MO_CONFIRMATION);
  if (!e || e.content.length !== 1) throw new DecodeError('malformed', 'not a DirectIP MO confirmation');
  return e.content[0] === 1;
}

/*
 * Mobile-terminated side (the customer connects to Iridium's DirectIP MT server, sends one
 * message, reads the confirmation): 0x41 MT header, 21 bytes: unique client message id (4), IMEI
 * (15), disposition flags (2); 0x42 MT payload, 1–1890 bytes; the answer 0x44 MT confirmation,
 * 25 bytes: the client message id (4), IMEI (15), Iridium's auto id reference (4), status (2,
 * signed: > 0 the message's place in the modem's MT queue, 0 no payload, < 0 an error).
 */
export const IEI_MT_HEADER = 0x41;
export const IEI_MT_PAYLOAD = 0x42;
export const IEI_MT_CONFIRMATION = 0x44;
const MT_HEADER_BYTES = 21;
const MT_CONFIRMATION_BYTES = 25;
/** Largest MT payload DirectIP accepts (a 9602/9603 takes at most 270). */
export const DIRECTIP_MT_PAYLOAD_MAX = 1890;

export interface MtMessage {
  clientMessageId: number;
  imei: string;
  /** Bit flags: 1 flush the MT queue, 2 send a ring alert without a message, … (0: none). */
  dispositionFlags: number;
  payload: Uint8Array;
}

export interface MtConfirmation {
  clientMessageId: number;
  imei: string;
  autoIdReference: number;
  /** > 0: place in the MT queue; 0: no payload; < 0: {@link MT_STATUS_TEXT}. */
  status: number;
}

/** What Iridium's negative MT statuses mean. −5 and −6 pass (retry later); the others will not. */
export const MT_STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  [-1]: 'invalid IMEI', [-2]: 'unknown IMEI (not provisioned for DirectIP)', [-3]: 'payload too large', [-4]: 'payload expected, none given',
  [-5]: 'MT queue full (50 messages)', [-6]: 'MT resources unavailable', [-7]: 'MT protocol violation', [-8]: 'ring alerts disabled for this IMEI', [-9]: 'IMEI not attached (no ring alerts)',
});
/** An MT status worth retrying later. */
export const mtStatusTransient = (status: number): boolean => status === -5 || status === -6;

export function encodeMtMessage(m: MtMessage): Uint8Array {
  if (!isValidImei(m.imei)) throw new EncodeError('invalid_value', `IMEI '${m.imei}' is not 15 digits`);
  if (m.payload.length === 0 || m.payload.length > DIRECTIP_MT_PAYLOAD_MAX) throw new EncodeError('invalid_value', `an MT payload has 1–${DIRECTIP_MT_PAYLOAD_MAX} bytes; got ${m.payload.length}`);
  const head = new Uint8Array(MT_HEADER_BYTES);
  const v = new DataView(head.buffer);
  v.setUint32(0, m.clientMessageId >>> 0);
  head.set(new TextEncoder().encode(m.imei), 4);
  v.setUint16(19, m.dispositionFlags & 0xffff);
  return message([ie(IEI_MT_HEADER, head), ie(IEI_MT_PAYLOAD, m.payload)]);
}

/** Parses an MT message (Iridium's side, emulators and tests). */
export function parseMtMessage(bytes: Uint8Array): MtMessage {
  let head: Uint8Array | undefined;
  let payload: Uint8Array | undefined;
  for (const { iei, content } of elements(bytes)) {
    if (iei === IEI_MT_HEADER) head = content;
    else if (iei === IEI_MT_PAYLOAD) payload = content;
  }
  if (!head || head.length !== MT_HEADER_BYTES) throw new DecodeError('malformed', 'a DirectIP MT message without a 21-byte MT header');
  if (!payload || payload.length === 0 || payload.length > DIRECTIP_MT_PAYLOAD_MAX) throw new DecodeError('malformed', `an MT payload has 1–${DIRECTIP_MT_PAYLOAD_MAX} bytes`);
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const imei = String.fromCharCode(...head.subarray(4, 19));
  if (!isValidImei(imei)) throw new DecodeError('malformed', 'the MT header\'s IMEI is not 15 digits');
  return { clientMessageId: v.getUint32(0), imei, dispositionFlags: v.getUint16(19), payload };
}

export function encodeMtConfirmation(c: MtConfirmation): Uint8Array {
  const b = new Uint8Array(MT_CONFIRMATION_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, c.clientMessageId >>> 0);
  b.set(new TextEncoder().encode(c.imei.padEnd(15, '0').slice(0, 15)), 4);
  v.setUint32(19, c.autoIdReference >>> 0);
  v.setInt16(23, c.status);
  return message([ie(IEI_MT_CONFIRMATION, b)]);
}

export function parseMtConfirmation(bytes: Uint8Array): MtConfirmation {
  const e = elements(bytes).find((x) => x.iei === IEI_MT_CONFIRMATION);
  if (!e || e.content.length !== MT_CONFIRMATION_BYTES) throw new DecodeError('malformed', 'not a DirectIP MT confirmation');
  const v = new DataView(e.content.buffer, e.content.byteOffset, e.content.byteLength);
  return { clientMessageId: v.getUint32(0), imei: String.fromCharCode(...e.content.subarray(4, 19)), autoIdReference: v.getUint32(19), status: v.getInt16(23) };
}
