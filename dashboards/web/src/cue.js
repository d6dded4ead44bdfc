// The cue for a new critical alert: a banner that stays until dismissed and a short beep through
// Web Audio. Browsers start audio only after a gesture; the login click (or any key) unlocks it.
let ctx = null;

function unlock() {
  try {
    ctx ??= new window.AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
  } catch {
    ctx = null; // no audio device: the banner still shows
  }
}
window.addEventListener('pointerdown', unlock, { capture: true });
window.addEventListener('keydown', unlock, { capture: true });

/** Three short 880 Hz tones; returns whether audio could play. */
export function beep() {
  if (!ctx) unlock();
  if (!ctx) return false;
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
