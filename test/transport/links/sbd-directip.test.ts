import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { encodeMtConfirmation, encodeMtMessage, MT_STATUS_TEXT, mtStatusTransient, parseMtConfirmation, parseMtMessage, DIRECTIP_MO_MAX_BYTES, directIpMessageLength, encodeMoConfirmation, encodeMoMessage, moSessionDelivered, parseMoConfirmation, parseMoMessage, type MoHeader } from '../../../src/transport/links/sbd/index.ts';

const header: MoHeader = { cdrReference: 0xdeadbeef, imei: '300234010753370', sessionStatus: 0, momsn: 65535, mtmsn: 7, sessionTimeS: 1_796_000_123 };
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return (err as DecodeError).code;
  }
  return 'no error';
};

describe('Iridium SBD DirectIP MO messages', () => {
  it('round-trips header, payload and location, with the layout of the DirectIP spec', () => {
    const payload = Uint8Array.from({ length: 340 }, (_, i) => (i * 7) & 0xff);
    const location = Uint8Array.from({ length: 11 }, (_, i) => i + 1);
    const bytes = encodeMoMessage({ header, payload, location });
    // revision 1, overall length, header IE 0x01 / 28, IMEI as ASCII at offset 10
    expect([...bytes.subarray(0, 6)]).toEqual([1, (bytes.length - 3) >> 8, (bytes.length - 3) & 0xff, 0x01, 0, 28]);
    expect(new TextDecoder().decode(bytes.subarray(10, 25))).toBe(header.imei);
    expect(bytes.length).toBe(3 + 31 + 3 + 340 + 14);
    const m = parseMoMessage(bytes);
    expect(m.header).toEqual(header);
    expect([...m.payload!]).toEqual([...payload]);
    expect([...m.location!]).toEqual([...location]);
    expect(directIpMessageLength(bytes.subarray(0, 3))).toBe(bytes.length);
  });

  it('a session without payload (a mailbox check) parses; only statuses 0–2 deliver', () => {
    const m = parseMoMessage(encodeMoMessage({ header: { ...header, sessionStatus: 13 } }));
    expect(m.payload).toBeUndefined();
    expect([0, 1, 2, 10, 13].map(moSessionDelivered)).toEqual([true, true, true, false, false]);
  });

  it('bad input gets typed errors: wrong revision, cut anywhere, length mismatch, bad IMEI, no header, two headers, oversized', () => {
    const good = encodeMoMessage({ header, payload: Uint8Array.of(1, 2, 3) });
    const bad = good.slice();
    bad[0] = 2;
    expect(codeOf(() => parseMoMessage(bad))).toBe('unsupported_version');
    for (let cut = 0; cut < good.length; cut++) expect(['truncated', 'malformed']).toContain(codeOf(() => parseMoMessage(good.subarray(0, cut))));
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(codeOf(() => parseMoMessage(longer))).toBe('malformed');
    const imei = good.slice();
    imei[12] = 0x41; // 'A' in the IMEI
    expect(codeOf(() => parseMoMessage(imei))).toBe('malformed');
    expect(codeOf(() => parseMoMessage(Uint8Array.of(1, 0, 4, 0x02, 0, 1, 9)))).toBe('malformed'); // payload only
    const h = good.subarray(3, 34);
    const two = new Uint8Array(3 + 62);
    two.set([1, 0, 62]);
    two.set(h, 3);
    two.set(h, 34);
    expect(codeOf(() => parseMoMessage(two))).toBe('malformed');
    expect(codeOf(() => parseMoMessage(new Uint8Array(DIRECTIP_MO_MAX_BYTES + 1)))).toBe('too_large');
    // An element announcing more than the message holds.
    const over = good.slice();
    over[over.length - 4] = 0xff;
    expect(['truncated', 'malformed']).toContain(codeOf(() => parseMoMessage(over)));
  });

  it('skips information elements it does not know (newer service revisions)', () => {
    const good = encodeMoMessage({ header, payload: Uint8Array.of(5) });
    const extra = new Uint8Array(good.length + 5);
    extra.set(good);
    extra.set([0x7e, 0, 2, 9, 9], good.length);
    extra[1] = (extra.length - 3) >> 8;
    extra[2] = (extra.length - 3) & 0xff;
    expect([...parseMoMessage(extra).payload!]).toEqual([5]);
  });

  it('confirmations: 1 stored, 0 not; anything else is malformed', () => {
    expect([...encodeMoConfirmation(true)]).toEqual([1, 0, 4, 0x05, 0, 1, 1]);
    expect(parseMoConfirmation(encodeMoConfirmation(true))).toBe(true);
    expect(parseMoConfirmation(encodeMoConfirmation(false))).toBe(false);
    expect(codeOf(() => parseMoConfirmation(encodeMoMessage({ header })))).toBe('malformed');
  });

  it('MT messages and confirmations round-trip; negative statuses name their cause, −5/−6 are worth retrying', () => {
    const m = { clientMessageId: 0x01020304, imei: header.imei, dispositionFlags: 0, payload: Uint8Array.of(9, 8, 7) };
    const bytes = encodeMtMessage(m);
    expect([...bytes.subarray(0, 6)]).toEqual([1, 0, 30, 0x41, 0, 21]);
    expect(parseMtMessage(bytes)).toEqual(m);
    const c = { clientMessageId: m.clientMessageId, imei: m.imei, autoIdReference: 4242, status: -6 };
    expect(parseMtConfirmation(encodeMtConfirmation(c))).toEqual(c);
    expect(MT_STATUS_TEXT[-2]).toMatch(/unknown IMEI/);
    expect([-6, -5, -2, 1].map(mtStatusTransient)).toEqual([true, true, false, false]);
    expect(() => encodeMtMessage({ ...m, payload: new Uint8Array(1891) })).toThrow(EncodeError);
    expect(codeOf(() => parseMtConfirmation(encodeMoConfirmation(true)))).toBe('malformed');
  });
});
