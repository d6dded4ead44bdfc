import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator } from 'playwright-core';

const root = join(import.meta.dirname, '..', '..');
/** Where browser tests leave their screenshots (gitignored). */
export const artifactsDir = join(root, 'test-artifacts', 'ui');

/** Builds the web UI when `npm test`'s pretest has not (a single test file run by hand). */
export function ensureUiBuilt(): void {
  if (existsSync(join(root, 'dashboards', 'public', 'index.html'))) return;
  execFileSync('npx', ['vite', 'build', '--config', 'dashboards/web/vite.config.js'], { cwd: root, stdio: 'inherit' });
}

/**
 * Debian's Chromium through playwright-core, sound allowed without a gesture so the alert cue can play
 * (as a wall screen's kiosk browser is started); `{ autoplay: false }` keeps the browser's own policy,
 * under which sound waits for a click.
 */
export function launchChromium({ autoplay = true }: { autoplay?: boolean } = {}): Promise<Browser> {
  mkdirSync(artifactsDir, { recursive: true });
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: autoplay ? [...args, '--autoplay-policy=no-user-gesture-required'] : args });
}

/** The series colours of dashboards/web/src/chart.ts (its PALETTE), as RGB. */
const SERIES_RGB = ['#7cc4ff', '#ff9d42', '#6fdc8c', '#f2d04b', '#c9a7ff', '#ff5d5d', '#4dd6c8', '#ff8fc8', '#b8e986', '#a0b4ff'].map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

/**
 * How many pixels of a uPlot chart's canvas are drawn in a series colour: 0 when the chart has axes,
 * grid and legend but no line (what a person would call an empty chart).
 */
export function plottedPixels(chart: Locator): Promise<number> {
  return chart.locator('canvas').first().evaluate((canvas: HTMLCanvasElement, palette: number[][]) => {
    const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if ((data[i + 3] as number) < 200) continue;
      const [r, g, b] = [data[i] as number, data[i + 1] as number, data[i + 2] as number];
      if (palette.some(([pr, pg, pb]) => Math.abs(r - (pr as number)) + Math.abs(g - (pg as number)) + Math.abs(b - (pb as number)) < 40)) n++;
    }
    return n;
  }, SERIES_RGB);
}
