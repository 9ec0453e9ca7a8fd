import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/core/progress.ts';

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => { out.push(s); return true; } } as unknown as NodeJS.WriteStream };
}

describe('progressReporter', () => {
  it('prints a line at each quarter when not a TTY', () => {
    const f = fakeStream(false);
    const p = progressReporter(false, f.stream);
    for (let i = 1; i <= 10; i++) p.update(i / 10, `u${i}`);
    p.done();
    expect(f.out).toEqual(['progress 10% u1\n', 'progress 30% u3\n', 'progress 50% u5\n', 'progress 80% u8\n', 'progress 100% u10\n']);
  });
  it('redraws a bar on a TTY and ends with one newline however often done() is called', () => {
    const f = fakeStream(true);
    const p = progressReporter(false, f.stream);
    p.update(0.5, 'a'); p.update(2, 'b'); p.done(); p.done();
    expect(f.out[1]!.startsWith('\r[##############################] 100% b')).toBe(true);
    expect(f.out.filter((s) => s === '\n')).toHaveLength(1);
  });
  it('is silent when quiet', () => {
    const f = fakeStream(false);
    const p = progressReporter(true, f.stream);
    p.update(1); p.done();
    expect(f.out).toEqual([]);
  });
});
