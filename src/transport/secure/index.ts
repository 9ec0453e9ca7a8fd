export * from './packet-protection.ts';
export * from './secure-socket.ts';
