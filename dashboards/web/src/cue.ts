// The cue for a new critical alert: a banner that stays until dismissed and a short beep through
// Web Audio. Browsers start audio only after a gesture (unless the kiosk browser is started with
// --autoplay-policy=no-user-gesture-required); until then the sound button says the sound is
// blocked, so a wall screen never looks as if it would beep when it cannot. Muting is a choice
// kept in the browser.
/** What the sound button says (soundState). */
export type SoundState = 'on' | 'blocked' | 'muted' | 'none';

let ctx: AudioContext | null = null;
let muted = false;
const listeners = new Set<(s: SoundState) => void>();
try {
  muted = window.localStorage.getItem('wf-sound') === 'off';
} catch {
  // storage blocked: sound on by default
}

const notify = () => {
  for (const f of listeners) f(soundState());
};

function unlock(): void {
  try {
    if (!ctx) {
      ctx = new window.AudioContext();
      ctx.addEventListener('statechange', notify);
    }
    if (ctx.state === 'suspended') ctx.resume().then(notify, notify);
  } catch {
    ctx = null; // no audio device: the banner still shows
  }
  notify();
}
window.addEventListener('pointerdown', unlock, { capture: true });
window.addEventListener('keydown', unlock, { capture: true });
// A kiosk browser allowed to autoplay needs no gesture: try at once.
unlock();

/** `on` (a cue will be heard), `blocked` (the browser waits for a click or key), `muted`, or `none` (no audio device). */
export function soundState(): SoundState {
  if (muted) return 'muted';
  if (!ctx) return 'none';
  return ctx.state === 'running' ? 'on' : 'blocked';
}

export function onSoundChange(f: (s: SoundState) => void): () => boolean {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The sound button: unmutes (and, being a click, unlocks) when off; mutes when on. */
export function toggleSound(): void {
  muted = soundState() === 'on';
  try {
    window.localStorage.setItem('wf-sound', muted ? 'off' : 'on');
  } catch {
    // not saved; holds for this page
  }
  if (!muted) unlock();
  notify();
}

/** Three short 880 Hz tones; returns whether they could be heard (audio running, not muted). */
export function beep(): boolean {
  if (muted) return false;
  if (!ctx) unlock();
  if (!ctx || ctx.state !== 'running') return false;
  const t0 = ctx.currentTime + 0.02;
  for (let i = 0; i < 3; i++) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, t0 + i * 0.3);
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + i * 0.3 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.3 + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + i * 0.3);
    osc.stop(t0 + i * 0.3 + 0.22);
  }
  return true;
}
