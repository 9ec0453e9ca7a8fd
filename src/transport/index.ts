export * from './emulator.ts';
export * from './packet.ts';
export * from './reliability/index.ts';
export * from './sim.ts';
export * from './link-session.ts';
export * from './ws.ts';
export * from './relay.ts';
export * from './synthetic-call.ts';
