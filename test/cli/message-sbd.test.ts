import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { decodePart, encodePart, reassembleMessage, splitMessage } from '../../src/codec/message/index.ts';
import { openSerialDevice, type ByteDuplex } from '../../src/transport/links/sbd/index.ts';
import { describeWith, program } from '../fixtures/components.ts';
import { SbdModemEmulator } from '../fixtures/sbd-emulator.ts';
import { until } from '../fixtures/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describeWith('stcts message send-sbd / receive-sbd against the modem emulator', [program('socat')], () => {
  let socat: ChildProcess;
  let modemSide: ByteDuplex;
  let emu: SbdModemEmulator;
  let dir: string;
  let dte: string;
  const message = Uint8Array.from({ length: 500 }, (_, i) => (i === 0 ? 0x09 : (i * 29 + 3) & 255));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stcts-msg-sbd-'));
    dte = join(dir, 'dte');
    const m = join(dir, 'modem');
    socat = spawn('socat', [`pty,raw,echo=0,link=${dte}`, `pty,raw,echo=0,link=${m}`], { stdio: 'ignore' });
    await until(() => existsSync(dte) && existsSync(m), 5000);
    modemSide = await openSerialDevice(m);
    emu = new SbdModemEmulator(modemSide);
  });

  afterEach(() => {
    modemSide.close();
    socat.kill();
  });

  it('send-sbd sends each part (a failed session retried); receive-sbd writes the parts of a message', async () => {
    const parts = splitMessage(message, 340, 4).map(encodePart);
    const files = parts.map((p, i) => {
      const f = join(dir, `msg.${i + 1}`);
      writeFileSync(f, p);
      return f;
    });
    emu.sessionOutcomes.push(32);
    const sent = await run(['message', 'send-sbd', ...files, '--device', dte]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/msg\.1: 340 bytes sent as MOMSN \d+ after 2 session/);
    expect(reassembleMessage(emu.delivered.map(decodePart)).message).toEqual(message);

    // Mobile-terminated: the gateway holds the parts (≤ 270 bytes) and rings once the modem listens.
    const down = splitMessage(message, 270, 5).map(encodePart);
    const receiving = run(['message', 'receive-sbd', '--device', dte, '-o', join(dir, 'in'), '--timeout-s', '30']);
    await until(() => emu.commands.includes('AT+SBDMTA=1'), 20000);
    emu.queueMt(down[1]!);
    emu.gatewayQueue.push(down[0]!);
    const got = await receiving;
    expect(got.code, got.stderr).toBe(0);
    const written = [1, 2].map((k) => new Uint8Array(readFileSync(join(dir, `in.${k}`))));
    expect(reassembleMessage(written.map(decodePart)).message).toEqual(message);
  }, 60_000);
});
