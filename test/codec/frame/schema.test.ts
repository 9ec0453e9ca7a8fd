import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { generateSchemaModule } from '../../../scripts/gen-proto.ts';

it('schema.generated.ts matches proto/stcts/v1/frame.proto (run scripts/gen-proto.ts)', () => {
  const current = readFileSync(join(__dirname, '..', '..', '..', 'src', 'codec', 'frame', 'schema.generated.ts'), 'utf8');
  expect(current).toBe(generateSchemaModule());
});
