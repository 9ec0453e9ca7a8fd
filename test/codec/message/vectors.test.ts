import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { decodeMessage, decodePart, reassembleMessage, smsToPart, splitSmsText } from '../../../src/codec/message/index.ts';
import type { TextModel } from '../../../src/codec/text/index.ts';
import { loadDefaultTextModel } from '../../../src/pipeline/codecs.ts';
import { describeWith, TEXT_MODEL } from '../../fixtures/components.ts';
import { sampleMessage, SAMPLE_MESSAGE_ID } from './sample-message.ts';

const vector = (name: string) => readFileSync(new URL(`../../vectors/${name}`, import.meta.url));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describeWith('voice message golden vectors (scripts/gen-message-vectors.ts)', [TEXT_MODEL], () => {
  let model: TextModel;
  beforeAll(async () => {
    model = await loadDefaultTextModel();
  });

  it('the writer still produces message-basic.bin byte for byte, and it decodes to message-basic.json', () => {
    const bin = new Uint8Array(vector('message-basic.bin'));
    expect(hex(sampleMessage(model))).toBe(hex(bin));
    const d = decodeMessage(bin, model);
    const json = JSON.parse(JSON.stringify({ header: d.header, items: d.items }, (_k, v) => (v instanceof Uint8Array ? hex(v) : v)));
    expect(json).toEqual(JSON.parse(vector('message-basic.json').toString('utf8')));
  });

  it('message-basic.sms and message-basic.parts.hex reassemble to the message', () => {
    const bin = hex(new Uint8Array(vector('message-basic.bin')));
    const sms = splitSmsText(vector('message-basic.sms').toString('utf8')).map((t) => decodePart(smsToPart(t)));
    const r = reassembleMessage(sms);
    expect(hex(r.message)).toBe(bin);
    const parts = vector('message-basic.parts.hex').toString('utf8').trim().split('\n').map((h) => decodePart(Uint8Array.from(Buffer.from(h, 'hex'))));
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.every((p) => p.messageId === SAMPLE_MESSAGE_ID)).toBe(true);
    expect(hex(reassembleMessage(parts.reverse()).message)).toBe(bin);
  });
});
