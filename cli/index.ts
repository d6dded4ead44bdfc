export { startWatchfloor, rulesFor, simulatorPassword, type Watchfloor, type WatchfloorOptions } from './app.ts';
