import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.ts';
import { formatKissEndpoint, parseKissUrl } from '../../../src/transport/links/kiss-url.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

describe('KISS link URLs', () => {
  it('parses kiss+tcp:// with host names, IPv4 and bracketed IPv6', () => {
    expect(parseKissUrl('kiss+tcp://127.0.0.1:8001')).toEqual({ endpoint: { transport: 'tcp', host: '127.0.0.1', port: 8001 }, options: {} });
    expect(parseKissUrl('kiss+tcp://tnc.local:8001/').endpoint).toEqual({ transport: 'tcp', host: 'tnc.local', port: 8001 });
    expect(parseKissUrl('kiss+tcp://[::1]:8001').endpoint).toEqual({ transport: 'tcp', host: '::1', port: 8001 });
    expect(formatKissEndpoint(parseKissUrl('kiss+tcp://[::1]:8001').endpoint)).toBe('kiss+tcp://[::1]:8001');
  });

  it('parses kiss:/dev/… with the serial rate and every option', () => {
    const u = parseKissUrl('kiss:/dev/ttyUSB0?baud=9600&modem=300&tncport=2&txdelay=250&persist=255&slottime=0&txtail=30&fullduplex=1&callsign=n0call-1&peer=N0CALL-2');
    expect(u.endpoint).toEqual({ transport: 'serial', path: '/dev/ttyUSB0' });
    expect(u.options).toEqual({
      serialBaud: 9600,
      modemBaud: 300,
      tncPort: 2,
      tnc: { txDelayMs: 250, persistence: 255, slotTimeMs: 0, txTailMs: 30, fullDuplex: true },
      callsign: 'N0CALL-1',
      peerCallsign: 'N0CALL-2',
    });
    expect(parseKissUrl('kiss:///tmp/kisstnc').endpoint).toEqual({ transport: 'serial', path: '/tmp/kisstnc' });
    expect(formatKissEndpoint(parseKissUrl('kiss:/tmp/kisstnc').endpoint)).toBe('kiss:/tmp/kisstnc');
  });

  it('refuses bad URLs and options with UsageError', () => {
    for (const bad of [
      'kiss+tcp://127.0.0.1',
      'kiss+tcp://127.0.0.1:0',
      'kiss+tcp://127.0.0.1:70000',
      'kiss+tcp://[nope]:8001',
      'kiss+tcp://u@host:8001',
      'kiss+udp://127.0.0.1:8001',
      'kiss:',
      'kiss:dev/ttyUSB0',
      'tcp://127.0.0.1:8001',
      'kiss+tcp://127.0.0.1:8001?baud=9600',
      'kiss:/dev/ttyUSB0?baud=fast',
      'kiss:/dev/ttyUSB0?tncport=16',
      'kiss:/dev/ttyUSB0?txdelay=3000',
      'kiss:/dev/ttyUSB0?persist=-1',
      'kiss:/dev/ttyUSB0?fullduplex=yes',
      'kiss:/dev/ttyUSB0?callsign=TOOLONGCALL',
      'kiss:/dev/ttyUSB0?peer=N0CALL-99',
      'kiss:/dev/ttyUSB0?colour=red',
    ]) {
      expect(errorCodeOf(() => parseKissUrl(bad), UsageError), bad).toBe('usage');
    }
  });
});
