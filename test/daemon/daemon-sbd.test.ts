import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { decodePart, reassembleMessage, splitMessage, encodePart } from '../../src/codec/message/index.ts';
import type { Daemon } from '../../src/daemon/index.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, SOCAT, TEXT_MODEL } from '../fixtures/components.ts';
import { startSbdPty, type SbdPty } from '../fixtures/sbd-pty.ts';
import { receivedMessages, sayToWav, startSbdDaemon } from '../fixtures/sbd-daemon.ts';
import { until } from '../fixtures/wait.ts';


/**
 * The edge daemon with an Iridium SBD peer (issue #16 item 4): `peers[].url: sbd:/dev/…` against the
 * modem emulator on a socat pseudo-terminal (no real modem was available). A WAV POSTed to
 * /messages is coded, journalled, and sent as SBD parts; parts arriving from the gateway are
 * decoded into state_dir/messages.
 */
describeWith('edge daemon with an sbd: peer', [SOCAT, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL], () => {
  let dir: string;
  let pty: SbdPty;
  let daemon: Daemon | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stcts-daemon-sbd-'));
    pty = await startSbdPty(dir);
  });
  afterEach(async () => {
    await daemon?.close();
    daemon = undefined;
    pty.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('POST /messages queues a voice message that leaves through the modem; the same message from the gateway lands in state_dir/messages once', async () => {
    const wav = sayToWav(join(dir, 'in.wav'), 'Position fifty four north, two west. All well on board.');
    daemon = await startSbdDaemon(dir, pty.dte, 'iridium');
    const base = `http://127.0.0.1:${daemon.httpPort}`;

    const bad = await fetch(`${base}/messages?peer=nobody`, { method: 'POST', body: readFileSync(wav) });
    expect(bad.status).toBe(404);
    const notWav = await fetch(`${base}/messages?peer=iridium`, { method: 'POST', body: 'hello' });
    expect(notWav.status).toBe(400);
    expect(((await notWav.json()) as { error: { code: string } }).error.code).toBeTruthy();

    const res = await fetch(`${base}/messages?peer=iridium`, { method: 'POST', body: readFileSync(wav) });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as { parts: number; bytes: number; speechSeconds: number; transcript: string };
    expect(queued.parts).toBeGreaterThanOrEqual(1);
    expect(queued.speechSeconds).toBeGreaterThan(2);
    await until(() => pty.emu.delivered.length === queued.parts, 30_000);
    const health = (await (await fetch(`${base}/healthz`)).json()) as { sbd: { name: string; queue: { parts: number } }[] };
    expect(health.sbd[0]).toMatchObject({ name: 'iridium', queue: { parts: 0 } });

    // Mobile-terminated: the same message as the gateway delivers it (≤ 270-byte parts, with a ring alert).
    const message = reassembleMessage(pty.emu.delivered.map(decodePart)).message;
    for (const p of splitMessage(message, 270, 5).map(encodePart)) pty.emu.queueMt(p);
    const lines = await receivedMessages(dir);
    expect(lines).toEqual([expect.objectContaining({ peer: 'iridium', transcript: queued.transcript })]);
  }, 180_000);
});
