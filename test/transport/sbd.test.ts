import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { TransportError } from '../../src/core/errors.ts';
import { decodePart, encodePart, reassembleMessage, splitMessage } from '../../src/codec/message/index.ts';
import { openSerialDevice, parseSbdix, sbdChecksum, SbdModem, type ByteDuplex } from '../../src/transport/links/sbd/index.ts';
import { describeWith, program } from '../fixtures/components.ts';
import { SbdModemEmulator } from '../fixtures/sbd-emulator.ts';
import { until } from '../fixtures/wait.ts';

it('SBD checksum and +SBDIX parsing', () => {
  expect(sbdChecksum(Uint8Array.of(0xff, 0xff, 0x02))).toBe(0x0200);
  expect(sbdChecksum(new Uint8Array(340).fill(255))).toBe((340 * 255) & 0xffff);
  expect(parseSbdix(['+SBDIX: 32, 7, 2, 0, 0, 0', 'OK'])).toEqual({ moStatus: 32, momsn: 7, mtStatus: 2, mtmsn: 0, mtLength: 0, mtQueued: 0 });
  expect(() => parseSbdix(['ERROR'])).toThrow(TransportError);
});

describeWith('Iridium SBD driver against a modem emulator on a socat pseudo-terminal', [program('socat')], () => {
  let socat: ChildProcess;
  let modemSide: ByteDuplex;
  let emu: SbdModemEmulator;
  let modem: SbdModem | undefined;
  const sleeps: number[] = [];
  const options = { sleep: async (ms: number) => void sleeps.push(ms), backoffMs: [10, 20, 40], maxAttempts: 5, commandTimeoutMs: 3000, sessionTimeoutMs: 3000 };

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-sbd-'));
    const [a, b] = [join(dir, 'dte'), join(dir, 'modem')];
    socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
    await until(() => existsSync(a) && existsSync(b), 5000);
    modemSide = await openSerialDevice(b);
    emu = new SbdModemEmulator(modemSide);
    sleeps.length = 0;
    modem = await SbdModem.open(await openSerialDevice(a), options);
  });

  afterEach(() => {
    modem?.close();
    modemSide.close();
    socat.kill();
  });

  it('opens the modem (echo off, ring alerts on) and reads the signal', async () => {
    expect(emu.commands.slice(0, 5)).toEqual(['AT', 'ATE0', 'AT&K0', 'AT+SBDMTA=1', 'AT+SBDD2']);
    emu.signal = 3;
    expect(await modem!.signalQuality()).toBe(3);
  });

  it('sends a message with AT+SBDWB + checksum; failed sessions are retried with back-off', async () => {
    emu.sessionOutcomes.push(32, 18, 35);
    const msg = Uint8Array.from({ length: 340 }, (_, i) => (i * 7 + 1) & 255);
    const report = await modem!.send(msg);
    expect(report.attempts).toBe(4);
    expect(report.failures).toEqual([32, 18, 35]);
    expect(sleeps).toEqual([10, 20, 40]);
    expect(emu.delivered).toEqual([msg]);
    expect(emu.commands.filter((c) => c === 'AT+SBDIX')).toHaveLength(4);
    expect(modem!.stats).toMatchObject({ sessions: 4, failedSessions: 3, moMessages: 1 });
  });

  it('gives up after maxAttempts with a typed error listing the sessions', async () => {
    emu.sessionOutcomes.push(32, 32, 32, 32, 32, 32);
    const err = await modem!.send(Uint8Array.of(1, 2, 3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('timeout');
    expect((err as TransportError).details?.failures).toEqual([32, 32, 32, 32, 32]);
    expect(emu.delivered).toEqual([]);
    // The modem stays usable.
    expect((await modem!.send(Uint8Array.of(4))).attempts).toBe(2);
  });

  it('refuses messages over 340 bytes before touching the modem', async () => {
    const err = await modem!.send(new Uint8Array(341)).catch((e: unknown) => e);
    expect((err as TransportError).code).toBe('too_large');
  });

  it('a ring alert fetches the mobile-terminated message (AT+SBDIXA, AT+SBDRB); a session also brings queued ones', async () => {
    const got: Uint8Array[] = [];
    modem!.onMessage = (m) => got.push(m);
    const mt = Uint8Array.from({ length: 270 }, (_, i) => (i * 13) & 255);
    emu.queueMt(mt);
    await until(() => got.length === 1, 3000);
    expect(got[0]).toEqual(mt);
    expect(emu.commands).toContain('AT+SBDIXA');
    // Two more waiting: a send's session brings the first, the mailbox loop the rest.
    emu.gatewayQueue.push(Uint8Array.of(1), Uint8Array.of(2, 3));
    await modem!.send(Uint8Array.of(9));
    await modem!.checkMailbox();
    expect(got.slice(1)).toEqual([Uint8Array.of(1), Uint8Array.of(2, 3)]);
  });

  it('a mobile-terminated message with a bad checksum is an error, and the next one is read', async () => {
    const got: Uint8Array[] = [];
    modem!.onMessage = (m) => got.push(m);
    emu.corruptNextMt = true;
    emu.gatewayQueue.push(Uint8Array.of(5, 6, 7));
    const err = await modem!.checkMailbox().catch((e: unknown) => e);
    expect((err as TransportError).code).toBe('protocol');
    expect(got).toEqual([]);
    emu.gatewayQueue.push(Uint8Array.of(8));
    await modem!.checkMailbox();
    expect(got).toEqual([Uint8Array.of(8)]);
  });

  it('carries a multi-part voice message both ways', async () => {
    const message = Uint8Array.from({ length: 700 }, (_, i) => (i === 0 ? 0x09 : (i * 31) & 255));
    const up = splitMessage(message, 340, 17).map(encodePart);
    expect(up.length).toBe(3);
    emu.sessionOutcomes.push(18);
    for (const p of up) await modem!.send(p);
    expect(reassembleMessage(emu.delivered.map(decodePart)).message).toEqual(message);
    const got: Uint8Array[] = [];
    modem!.onMessage = (m) => got.push(m);
    for (const p of splitMessage(message, 270, 18).map(encodePart).reverse()) emu.gatewayQueue.push(p);
    await modem!.checkMailbox();
    expect(reassembleMessage(got.map(decodePart)).message).toEqual(message);
  });
});
