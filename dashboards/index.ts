import { fileURLToPath } from 'node:url';

/** The web UI's static files (plain HTML, CSS and ES modules, no build step), served by the ops server. */
export const publicDir = fileURLToPath(new URL('./public', import.meta.url));
