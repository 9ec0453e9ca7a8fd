// Writes the golden voice-message vectors (issue #16): test/vectors/message-basic.bin (the message),
// .sms (its SMS parts, one per line), .meshtastic.hex (its Meshtastic parts, hex, one per line) and
// .json (the decoded items). They need the text model (models/text-lm.bin).
// Run after a deliberate format change: node --import tsx scripts/gen-message-vectors.ts
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodePart, partBytesFor, partToSms, splitMessage } from '../src/codec/message/index.ts';
import { loadDefaultTextModel } from '../src/pipeline/codecs.ts';
import { sampleMessage, SAMPLE_MESSAGE_ID } from '../test/codec/message/sample-message.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors');
const model = await loadDefaultTextModel();
const message = sampleMessage(model);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
writeFileSync(join(dir, 'message-basic.bin'), message);
writeFileSync(join(dir, 'message-basic.sms'), splitMessage(message, partBytesFor('sms'), SAMPLE_MESSAGE_ID).map((p) => partToSms(encodePart(p))).join('\n') + '\n');
// Meshtastic parts of a deliberately small size, so the vector has several.
writeFileSync(join(dir, 'message-basic.parts.hex'), splitMessage(message, 40, SAMPLE_MESSAGE_ID).map((p) => hex(encodePart(p))).join('\n') + '\n');
const decoded = decodeMessage(message, model);
writeFileSync(join(dir, 'message-basic.json'), JSON.stringify({ header: decoded.header, items: decoded.items }, (_k, v) => (v instanceof Uint8Array ? hex(v) : v), 2) + '\n');
console.log(`wrote test/vectors/message-basic.{bin,sms,parts.hex,json} (${message.length} bytes)`);
