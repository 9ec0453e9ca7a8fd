import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/eval/progress.ts';

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => { out.push(s); return true; } } as unknown as NodeJS.WriteStream };
}

describe('createProgress', () => {
  it('prints one line per step when not a TTY', () => {
    const f = fakeStream(false);
    const p = createProgress(10, 'x', { stream: f.stream, stepPercent: 50 });
    for (let i = 0; i < 10; i++) p.tick();
    p.done(); p.done();
    expect(f.out).toEqual(['x: 1/10 (10%) \n', 'x: 5/10 (50%) \n', 'x: 10/10 (100%) \n']);
  });
  it('redraws a bar on a TTY and ends with one newline', () => {
    const f = fakeStream(true);
    const p = createProgress(2, 'y', { stream: f.stream, widthChars: 4 });
    p.tick('a'); p.tick('b'); p.done(); p.done();
    expect(f.out[1].startsWith('\ry [####] 2/2 b')).toBe(true);
    expect(f.out.filter((s) => s === '\n')).toHaveLength(1);
  });
});
