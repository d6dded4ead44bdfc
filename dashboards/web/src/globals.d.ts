// socket.io's browser client, loaded by index.html from the ops server (/socket.io/socket.io.js),
// defines the global `io`; it is missing when that script could not load.
import type { io as socketIo } from 'socket.io-client';

declare global {
  const io: typeof socketIo | undefined;
}
