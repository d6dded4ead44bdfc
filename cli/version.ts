import { readFileSync } from 'node:fs';

/** The version of the installed package (package.json beside cli/), as `watchfloor --version` prints it. */
export const packageVersion: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
