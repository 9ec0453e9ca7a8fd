export * from './secure-socket.ts';
export * from './noise.ts';
export * from './aead-packet.ts';
export * from './link-handshake.ts';
export * from './admission.ts';
export * from './noise-socket.ts';
export * from './secure-datagram.ts';
