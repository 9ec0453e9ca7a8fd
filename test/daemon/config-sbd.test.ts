import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { parseConfig } from '../../src/daemon/config.ts';
import { isSbdUrl, parseSbdUrl } from '../../src/daemon/sbd-url.ts';
import { errorCodeOf } from '../fixtures/errors.ts';

const PSK = 'psk-for-the-config-tests-0123';
const withUrl = (url: string) => `node: ship-a
http: { listen: "127.0.0.1:8080" }
state_dir: /var/lib/stcts
peers:
  - name: shore
    url: ${JSON.stringify(url)}
    psk: ${PSK}
`;

describe('daemon config: sbd: peers (Iridium SBD, issue #16 item 4)', () => {
  it('accepts sbd:/dev/DEVICE with optional baud and mailbox interval', () => {
    const c = parseConfig(withUrl('sbd:/dev/ttyUSB0?baud=19200&mailbox_s=600'));
    expect(c.peers[0]!.url).toBe('sbd:/dev/ttyUSB0?baud=19200&mailbox_s=600');
    expect(c.stateDir).toBe('/var/lib/stcts');
    expect(parseSbdUrl('sbd:/dev/ttyUSB0?baud=19200&mailbox_s=600')).toEqual({ device: '/dev/ttyUSB0', baudRate: 19200, mailboxIntervalMs: 600_000 });
    expect(parseSbdUrl('sbd:/tmp/pty-modem')).toEqual({ device: '/tmp/pty-modem' });
    expect(isSbdUrl('sbd:/dev/x')).toBe(true);
    expect(isSbdUrl('kiss:/dev/x')).toBe(false);
  });

  it('an sbd: peer needs state_dir (its queue lives there)', () => {
    expect(errorCodeOf(() => parseConfig(withUrl('sbd:/dev/ttyUSB0').replace('state_dir: /var/lib/stcts\n', '')), ConfigError)).toBe('invalid_value');
  });

  it('refuses a missing device, unknown options, odd baud rates and intervals', () => {
    for (const url of ['sbd:', 'sbd:ttyUSB0', 'sbd:/dev/ttyUSB0?baud=12345', 'sbd:/dev/ttyUSB0?speed=9600', 'sbd:/dev/ttyUSB0?mailbox_s=1', 'sbd:/dev/ttyUSB0?baud=fast']) {
      expect(errorCodeOf(() => parseConfig(withUrl(url)), ConfigError), url).toBe('invalid_value');
      expect(errorCodeOf(() => parseSbdUrl(url), ConfigError), url).toBe('invalid_value');
    }
  });
});
