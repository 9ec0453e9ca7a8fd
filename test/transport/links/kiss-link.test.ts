import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidStateError, TransportError, UsageError } from '../../../src/core/errors.ts';
import { encodeAx25Ui, parseCallsign } from '../../../src/transport/links/ax25.ts';
import { encodeKissFrame, KissStreamDecoder, type KissFrame } from '../../../src/transport/links/kiss-frame.ts';
import { padKissPayload } from '../../../src/transport/links/kiss-padding.ts';
import { KissLink, openKissLink } from '../../../src/transport/links/kiss.ts';
import type { LinkState } from '../../../src/transport/links/types.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';
import { until } from '../../fixtures/wait.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A stand-in TNC on loopback: records the KISS frames it gets, and lets a test write raw bytes. */
class FakeTnc {
  readonly frames: KissFrame[] = [];
  readonly clients: Socket[] = [];
  private server: Server | undefined;
  constructor(public port = 0) {}

  async listen(): Promise<void> {
    const server = createServer((s) => {
      this.clients.push(s);
      const d = new KissStreamDecoder();
      s.on('data', (chunk) => this.frames.push(...d.push(chunk)));
      s.on('error', () => {});
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as { port: number }).port;
  }

  get url(): string {
    return `kiss+tcp://127.0.0.1:${this.port}`;
  }

  write(bytes: Uint8Array): void {
    this.clients.at(-1)!.write(bytes);
  }

  /** Closes the server and every connection (the TNC process dies). */
  async kill(): Promise<void> {
    for (const c of this.clients) c.destroy();
    this.clients.length = 0;
    await new Promise((r) => this.server?.close(r));
  }
}

const data = (frames: KissFrame[]) => frames.filter((f) => f.command === 0);
let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
async function open(url: string, options: Parameters<typeof openKissLink>[1] = {}): Promise<KissLink> {
  const link = await openKissLink(url, { reconnectMinMs: 20, reconnectMaxMs: 100, ...options });
  cleanups.push(() => link.close());
  return link;
}
async function tnc(port = 0): Promise<FakeTnc> {
  const t = new FakeTnc(port);
  await t.listen();
  cleanups.push(() => t.kill());
  return t;
}

describe('KissLink over TCP (stand-in TNC)', () => {
  it('sends the TNC parameters at attach, then padded raw data frames on its port', async () => {
    const t = await tnc();
    const link = await open(`${t.url}?tncport=1&txdelay=250&persist=255`, { tnc: { txTailMs: 20 } });
    expect(link.state).toBe('up');
    link.send(Uint8Array.of(1, 2, 3));
    link.send(new Uint8Array(40).fill(0xc0));
    await until(() => t.frames.length === 5);
    expect(t.frames.slice(0, 3).map((f) => [f.port, f.command, hex(f.data)])).toEqual([
      [1, 1, '19'],
      [1, 2, 'ff'],
      [1, 4, '02'],
    ]);
    expect(data(t.frames).map((f) => [f.port, hex(f.data)])).toEqual([
      [1, hex(padKissPayload(Uint8Array.of(1, 2, 3)))],
      [1, 'c0'.repeat(40)],
    ]);
    expect(link.stats.datagramsOut).toBe(2);
    expect(link.stats.controlPacketsOut).toBe(3);
    // Cost with the TNC's real TXDELAY/TX tail: 250 + (15 + 4) bytes * 8 * (63/62) / 1200 bd * 1000 + 20.
    expect(link.cost.packetCost(3).airtimeMs).toBeCloseTo(250 + (19 * 8 * (63 / 62) * 1000) / 1200 + 20, 6);
    expect(link.stats.airtimeMsOut).toBeCloseTo(link.cost.packetCost(3).airtimeMs + link.cost.packetCost(40).airtimeMs, 6);
  });

  it('delivers frames from garbage-laden, split and joined chunks; counts what it drops', async () => {
    const t = await tnc();
    const link = await open(t.url);
    const got: string[] = [];
    link.onDatagram((d) => got.push(hex(d)));
    await until(() => t.clients.length === 1);
    const a = encodeKissFrame({ port: 0, command: 0, data: padKissPayload(Uint8Array.of(0xaa)) });
    const b = encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(20).fill(0xdb) });
    const otherPort = encodeKissFrame({ port: 3, command: 0, data: new Uint8Array(20) });
    const command = encodeKissFrame({ port: 0, command: 6, data: Uint8Array.of(1) });
    const short = encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(5) });
    const oversized = encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(3000) });
    const stream = Buffer.concat([Buffer.from('garbage!'), a, otherPort, command, short, oversized, b]);
    for (let at = 0; at < stream.length; at += 7) t.write(stream.subarray(at, at + 7));
    await until(() => got.length === 2);
    expect(got).toEqual(['aa', 'db'.repeat(20)]);
    expect(link.stats.garbageBytesIn).toBe(8);
    expect(link.stats.commandFramesIn).toBe(1);
    expect(link.stats.dropped).toMatchObject({ foreign_source: 1, malformed: 1, too_large: 1 });
    expect(link.stats.datagramsIn).toBe(2);
  });

  it('amateur mode: UI frames from our callsign to the peer; others are dropped and counted', async () => {
    const t = await tnc();
    const link = await open(`${t.url}?callsign=N0CALL-1&peer=N0CALL-2`);
    expect(link.mtu).toBe(2123 - 16);
    const got: string[] = [];
    link.onDatagram((d) => got.push(hex(d)));
    link.send(Uint8Array.of(5));
    await until(() => data(t.frames).length === 1);
    expect(hex(data(t.frames)[0]!.data)).toBe(hex(encodeAx25Ui(parseCallsign('N0CALL-2'), parseCallsign('N0CALL-1'), Uint8Array.of(5))));
    const frame = (dst: string, src: string, info: number[]) => encodeKissFrame({ port: 0, command: 0, data: encodeAx25Ui(parseCallsign(dst), parseCallsign(src), Uint8Array.from(info)) });
    const aprs = encodeAx25Ui(parseCallsign('APRS'), parseCallsign('N0CALL-2'), Uint8Array.of(1));
    aprs[15] = 0xcf; // NET/ROM PID: someone else's protocol
    t.write(
      Buffer.concat([
        frame('N0CALL-3', 'N0CALL-2', [1]), // not for us
        frame('N0CALL-1', 'W1AW', [2]), // not from our peer
        encodeKissFrame({ port: 0, command: 0, data: aprs }),
        encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(20).fill(0x41) }), // raw, not AX.25
        frame('N0CALL-1', 'N0CALL-2', [3, 4]),
      ]),
    );
    await until(() => got.length === 1);
    expect(got).toEqual(['0304']);
    expect(link.stats.dropped.foreign_source).toBe(3);
    expect(link.stats.dropped.malformed).toBe(1);
  });

  it('refuses oversized datagrams, drops while not attached, and is closed for good after close()', async () => {
    const t = await tnc();
    const link = await open(t.url);
    expect(link.mtu).toBe(2122);
    expect(errorCodeOf(() => link.send(new Uint8Array(2123)), TransportError)).toBe('too_large');
    link.send(new Uint8Array(2122).fill(0xff)); // the escaped worst case still fits direwolf's limit
    await until(() => data(t.frames).length === 1);
    expect(data(t.frames)[0]!.data.length).toBe(2123);
    await link.close();
    await link.close();
    expect(link.state).toBe('closed');
    expect(errorCodeOf(() => link.send(Uint8Array.of(1)), InvalidStateError)).toBe('invalid_state');
  });

  it('a TNC that disappears: down with a typed error, retries, up again when it is back', async () => {
    const t = await tnc();
    const link = await open(t.url);
    const states: LinkState[] = [];
    const errors: TransportError[] = [];
    link.onState((s) => states.push(s));
    link.onError((e) => errors.push(e));
    await t.kill();
    await until(() => link.state !== 'up');
    link.send(Uint8Array.of(1));
    expect(link.stats.dropped.not_connected).toBe(1);
    await until(() => errors.length >= 3); // the loss, then refused attempts
    expect(errors.every((e) => e instanceof TransportError)).toBe(true);
    expect(errors.slice(1).map((e) => e.code)).toContain('refused');
    const back = new FakeTnc(t.port);
    await back.listen();
    cleanups.push(() => back.kill());
    await link.waitUntilUp(2000);
    link.send(Uint8Array.of(9));
    await until(() => data(back.frames).length === 1);
    expect(states.slice(0, 2)).toEqual(['down', 'connecting']);
    expect(states.at(-1)).toBe('up');
    expect(link.stats.attaches).toBe(2);
  });

  it('a TNC that is not there at open: resolves down and attaches later; bad options are UsageErrors', async () => {
    const t = await tnc();
    const port = t.port;
    await t.kill();
    const link = await open(`kiss+tcp://127.0.0.1:${port}`);
    expect(link.state).toBe('down');
    const later = new FakeTnc(port);
    await later.listen();
    cleanups.push(() => later.kill());
    await link.waitUntilUp(2000);
    await expect(openKissLink('kiss+tcp://127.0.0.1:1?txdelay=9999')).rejects.toBeInstanceOf(UsageError);
    await expect(openKissLink(later.url, { peerCallsign: 'N0CALL-2' })).rejects.toBeInstanceOf(UsageError);
    await expect(openKissLink(later.url, { callsign: 'BAD CALL' })).rejects.toBeInstanceOf(UsageError);
  });

  it('a serial device that is missing or not a terminal: down with a typed error, retried, no crash', async () => {
    for (const path of ['/nonexistent/ttyUSB9', '/dev/null']) {
      const link = await open(`kiss:${path}`);
      const errors: TransportError[] = [];
      link.onError((e) => errors.push(e));
      expect(link.state).toBe('down');
      expect(link.stats.failures).toBe(1);
      await until(() => errors.length >= 2, 3000);
      expect(errors.map((e) => e.code)).toEqual(errors.map(() => 'refused'));
      link.send(Uint8Array.of(1));
      expect(link.stats.dropped.not_connected).toBe(1);
      await link.close();
    }
  });
});
