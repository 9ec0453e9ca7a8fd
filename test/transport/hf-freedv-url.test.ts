import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CODEC2_ADDON, describeWith } from '../fixtures/components.ts';
import { UsageError } from '../../src/core/errors.ts';
import { FreedvLink, FreedvModem, openFreedvLink, parseFreedvUrl, StreamAudioPort } from '../../src/transport/links/freedv/index.ts';

const usage = (url: string) => {
  try {
    parseFreedvUrl(url);
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('freedv:// URL', () => {
  it('parses modes, audio, PTT and timing', () => {
    const u = parseFreedvUrl('freedv://?modes=datac0,datac3&audio=alsa:plughw:1,0&ptt=rigctld://127.0.0.1:4532&txdelay=250&txtail=40&holdoff=900&frames=2');
    expect(u.modes).toEqual(['datac0', 'datac3']); // in the order conditions worsen
    expect(u.auto).toBe(false);
    expect(u.audio).toEqual({ kind: 'alsa', device: 'plughw:1,0' });
    expect(u.ptt).toEqual({ kind: 'rigctld', host: '127.0.0.1', port: 4532 });
    expect(u.options).toEqual({ txDelayMs: 250, txTailMs: 40, holdoffMs: 900, framesPerBurst: 2 });
    const d = parseFreedvUrl('freedv://');
    expect(d).toMatchObject({ modes: ['datac0'], audio: { kind: 'stdio' }, ptt: { kind: 'none' } });
    expect(parseFreedvUrl('freedv:?modes=auto&audio=sim')).toMatchObject({ auto: true, modes: ['datac0', 'fsk_ldpc_200', 'fsk_ldpc'], audio: { kind: 'sim' } });
    expect(parseFreedvUrl('freedv://?mode=FSK_LDPC&ptt=none').modes).toEqual(['fsk_ldpc']);
  });

  it('refuses what it does not know with a UsageError', () => {
    for (const url of [
      'udp://1.2.3.4:5',
      'freedv://host?modes=datac0',
      'freedv://?modes=datac4',
      'freedv://?modes=datac0,datac0',
      'freedv://?audio=pulse',
      'freedv://?audio=alsa:',
      'freedv://?ptt=rigctld://127.0.0.1',
      'freedv://?ptt=rigctld://127.0.0.1:70000',
      'freedv://?ptt=rts',
      'freedv://?txdelay=-5',
      'freedv://?txdelay=1.5',
      'freedv://?frames=0',
      'freedv://?colour=blue',
      'freedv://?txdelay=1&txdelay=2',
    ]) {
      const err = usage(url);
      expect(err, url).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('usage');
    }
  });

  it('audio=sim without a port is a UsageError', async () => {
    await expect(openFreedvLink('freedv://?audio=sim')).rejects.toBeInstanceOf(UsageError);
  });
});

describeWith('FreeDV link on raw PCM streams', [CODEC2_ADDON], () => {
  it('two links cross-connected by pipes (stdin/stdout style, clocked by their input) exchange datagrams', async () => {
    const aIn = new PassThrough();
    const aOut = new PassThrough();
    const bIn = new PassThrough();
    const bOut = new PassThrough();
    aOut.pipe(bIn);
    bOut.pipe(aIn);
    const pa = new StreamAudioPort(aIn, aOut);
    const pb = new StreamAudioPort(bIn, bOut);
    const a = new FreedvLink(pa, { mode: 'datac0' });
    const b = new FreedvLink(pb, { mode: 'datac0' });
    const atB: number[][] = [];
    const atA: number[][] = [];
    b.onDatagram((d) => {
      atB.push([...d]);
      b.send(Uint8Array.of(0xac, ...d));
    });
    a.onDatagram((d) => atA.push([...d]));
    a.send(Uint8Array.of(1, 2, 3));
    a.send(Uint8Array.of(4, 5));
    // The clock: 0.1 s of silence into each end starts the loop; from then on each end's output is the other's input.
    aIn.write(Buffer.alloc(1600));
    bIn.write(Buffer.alloc(1600));
    for (let i = 0; i < 400 && atA.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    await a.close();
    await b.close();
    await a.close();
    expect(atB).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(atA).toEqual([
      [0xac, 1, 2, 3],
      [0xac, 4, 5],
    ]);
    expect(a.stats.turns).toBe(1);
    expect(pa.samplesOut).toBe(pa.samplesIn); // one sample out per sample in
    expect(pa.samplesIn).toBeGreaterThan(8000); // ≥ 1 s of stream time went by
  }, 60_000);

  it('openFreedvLink with audio=stdio: a child process transmits a datagram as PCM on its stdout', async () => {
    const script = `
      import { openFreedvLink } from './src/transport/links/freedv/index.ts';
      const link = await openFreedvLink('freedv://?modes=datac0&audio=stdio&txdelay=50');
      link.send(Uint8Array.of(7, 7, 7, 42));
      const t = setInterval(() => { if (link.stats.turns === 1 && link.queued === 0) { clearInterval(t); setTimeout(() => link.close(), 1500); } }, 20);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
    const modem = new FreedvModem({ mode: 'datac0' });
    const rx = modem.createDemodulator();
    const got: number[][] = [];
    let pending: Promise<unknown> = Promise.resolve();
    let bytesOut = 0;
    child.stdout!.on('data', (b: Buffer) => {
      bytesOut += b.length;
      const s = new Int16Array(b.length >> 1);
      for (let i = 0; i < s.length; i++) s[i] = b.readInt16LE(2 * i);
      pending = pending.then(async () => {
        for (const f of await rx.push(s)) got.push([...f.payload.subarray(0, 6)]);
      });
    });
    // The sound card's receive side: silence at a steady pace, until the child exits.
    const feed = setInterval(() => child.stdin!.write(Buffer.alloc(1600)), 5);
    const exit = new Promise<number | null>((r) => child.on('exit', r));
    child.stdin!.on('error', () => {});
    const code = await exit;
    clearInterval(feed);
    await pending;
    await modem.close();
    expect(code).toBe(0);
    expect(bytesOut).toBeGreaterThan(2 * 8000 * 0.7);
    // Fragment header 0x8804 (last, index 0, over: the turn's last frame, 4 bytes), then the datagram.
    expect(got).toEqual([[0x88, 4, 7, 7, 7, 42]]);
  }, 60_000);
});
