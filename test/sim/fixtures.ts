export { syntheticCall } from '../../src/transport/synthetic-call.ts';
