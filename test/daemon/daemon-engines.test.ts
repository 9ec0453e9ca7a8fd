import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { parseConfig, startDaemon, WavLoopEndpoint } from '../../src/daemon/index.ts';
import { loadDefaultTextModel } from '../../src/pipeline/codecs.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL } from '../fixtures/components.ts';


describeWith('edge daemon with the real engines (pocketsphinx, LM text coder, TTS)', [TEXT_MODEL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, FESTIVAL], () => {
  it('speech said at one daemon is recognized, sent over the 300 bit/s lossy link and spoken at the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-daemon-e2e-'));
    writeFileSync(join(dir, 's.txt'), 'The wind is from the north west at twenty knots.\n');
    execFileSync('text2wave', ['-o', join(dir, 's.wav'), join(dir, 's.txt')]);
    const textModel = await loadDefaultTextModel();
    const psk = 'engines-test-psk-0123456789';
    const emu = 'emulator: { bits_per_second: 300, loss: 0.1, burst: 5, delay_ms: 100, seed: 5 }';
    const b = await startDaemon(parseConfig(`node: shore\nhttp: { listen: "127.0.0.1:0" }\nlink: { listen: "127.0.0.1:0" }\npeers:\n  - { name: ship, psk: ${psk} }\n${emu}\n`), { textModel, log: silentLogger });
    const a = await startDaemon(parseConfig(`node: ship\nhttp: { listen: "127.0.0.1:0" }\npeers:\n  - { name: shore, url: "ws://127.0.0.1:${b.linkPort}", psk: ${psk} }\n${emu}\n`), { textModel, log: silentLogger });
    try {
      const speaker = await WavLoopEndpoint.fromFile(join(dir, 's.wav'), { id: 'speaker', realtime: false });
      const listener = new WavLoopEndpoint(new Int16Array(800), { id: 'listener', loops: Infinity, chunkMs: 50 });
      const listening = b.host.attach(listener);
      await a.host.attach(speaker);
      const t0 = Date.now();
      while (listener.heard.length < speaker.sent.length && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
      listener.stop();
      await listening;
      expect(speaker.sent.length).toBeGreaterThan(0);
      expect(speaker.sent.join(' ')).toMatch(/NORTH WEST/);
      expect(listener.heard).toEqual(speaker.sent);
      expect(listener.heardMs).toBeGreaterThan(1000);
      const m = a.metrics().peers[0]!;
      expect(m.bitsOut.text).toBeGreaterThan(0);
      expect(m.bitsOut.speaker).toBeGreaterThan(0); // the speaker profile, once
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);
});
