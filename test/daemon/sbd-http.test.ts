import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sbdHttpHandler } from '../../src/daemon/sbd-http.ts';
import { startSbdPeer, type SbdPeer } from '../../src/daemon/sbd-peer.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, SOCAT, TEXT_MODEL } from '../fixtures/components.ts';
import { startSbdPty, type SbdPty } from '../fixtures/sbd-pty.ts';
import { until } from '../fixtures/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));

describeWith('POST/GET /messages (the SBD peers\' HTTP routes)', [SOCAT], () => {
  let dir: string;
  let pty: SbdPty;
  let peer: SbdPeer;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stcts-sbd-http-'));
    pty = await startSbdPty(dir);
    peer = await startSbdPeer({ name: 'shore', url: `sbd:${pty.dte}`, stateDir: join(dir, 'state'), settleMs: 30, checkMailboxOnOpen: false, modem: { backoffMs: [5], sleep: async () => {} } });
    const handle = sbdHttpHandler([peer], { maxWavBytes: 512 * 1024 });
    server = createServer((req, res) => {
      void handle(req, res).then((mine) => {
        if (!mine) res.writeHead(404, { 'content-type': 'text/plain' }).end('not mine\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await peer.close();
    pty.close();
  });

  const post = (peerName: string, body: Uint8Array) => fetch(`${base}/messages?peer=${peerName}`, { method: 'POST', body: Buffer.from(body), headers: { 'content-type': 'audio/wav' } });

  it('404 with a typed error for an unknown peer; other paths are not its own', async () => {
    const r = await post('nobody', Uint8Array.of(1, 2, 3));
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('unknown_peer');
    const other = await fetch(`${base}/healthz`);
    expect(await other.text()).toBe('not mine\n');
  });

  it('400 for a body that is not a WAV, 413 beyond the size bound; nothing is queued', async () => {
    const bad = await post('shore', new TextEncoder().encode('this is not a wav file at all, just text'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('not_wav');
    const big = await post('shore', new Uint8Array(600 * 1024));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('overflow');
    const status = (await (await fetch(`${base}/messages?peer=shore`)).json()) as { queue: { messages: number } };
    expect(status.queue.messages).toBe(0);
  });

  describeWith('with the real encoder', [FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL], () => {
    it('202 with the message\'s size once journalled; it is sent, and GET reports it', async () => {
      const wav = join(dir, 'in.wav');
      expect(spawnSync(process.execPath, [BIN, 'say', 'We have fuel for two more days and water for five.', '-o', wav]).status).toBe(0);
      const r = await post('shore', new Uint8Array(readFileSync(wav)));
      expect(r.status).toBe(202);
      const body = (await r.json()) as { seq: number; messageId: number | null; parts: number; bytes: number; speechSeconds: number; transcript: string };
      expect(body).toMatchObject({ seq: 0, parts: 1 });
      expect(body.transcript.split(' ').length).toBeGreaterThan(4);
      expect(body.bytes).toBeGreaterThan(10);
      expect(body.bytes).toBeLessThanOrEqual(340);
      expect(body.speechSeconds).toBeGreaterThan(2);
      await until(() => peer.stats().sent.parts === 1, 10_000);
      expect(pty.emu.delivered.map((d) => d.length)).toEqual([body.bytes]);
      const all = (await (await fetch(`${base}/messages`)).json()) as { peers: Array<{ name: string; sent: { parts: number } }> };
      expect(all.peers).toEqual([expect.objectContaining({ name: 'shore', sent: expect.objectContaining({ parts: 1 }) })]);
    }, 60_000);
  });
});
