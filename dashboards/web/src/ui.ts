// Preact with htm: components written as tagged templates, no JSX step. `useStore` re-renders a
// component when the page store says a topic changed (alerts, readings, presence, ...).
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import type { VNode } from 'preact';

// Typed as htm/preact types it: a template with several roots gives an array, which Preact renders alike.
export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
export type { ComponentChildren, VNode } from 'preact';
export { render };

/** Topics the page announces; listeners run at most once per 30 ms per topic. */
export class Store {
  #listeners = new Map<string, Set<() => void>>();
  #due = new Set<string>();
  #frame: ReturnType<typeof setTimeout> | 0 = 0;

  changed(topic: string): void {
    this.#due.add(topic);
    if (this.#frame) return;
    // A timer, not requestAnimationFrame: a hidden tab must still follow alerts (its title, the cue).
    this.#frame = setTimeout(() => {
      this.#frame = 0;
      const due = [...this.#due];
      this.#due.clear();
      for (const t of due) for (const f of this.#listeners.get(t) ?? []) f();
    }, 30);
  }

  on(topic: string, f: () => void): () => boolean {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, (set = new Set()));
    set.add(f);
    return () => set!.delete(f);
  }
}

/** Re-renders the calling component whenever one of `topics` changes. */
export function useStore(store: Store, ...topics: string[]): void {
  const [, bump] = useState(0);
  useEffect(() => {
    const offs = topics.map((t) => store.on(t, () => bump((n) => n + 1)));
    return () => offs.forEach((off) => off());
  }, [store, topics.join()]);
}
