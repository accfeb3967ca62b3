/**
 * Render time of a panel: from posting a host message into the page (as VS Code delivers it:
 * a `message` event with a structured clone) to the DOM updated and laid out (the panel's
 * handler has run and a forced layout has finished). `times` runs alternate between `messages`.
 */
import type { Page } from 'playwright-core';
import type { HostMessage } from '../../src/webview/protocol';

export interface Timing {
  /** The first message (the panel builds its DOM). */
  first: number;
  /** Later messages (updates), median and worst. */
  median: number;
  max: number;
  runs: number;
}

export async function renderTiming(page: Page, messages: HostMessage[], times = 20): Promise<Timing> {
  const samples = await page.evaluate(async ({ msgs, n }) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const data = { ...msgs[i % msgs.length], stop: 1000 + i };
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => {
        window.addEventListener('message', () => resolve(), { once: true });
      });
      window.postMessage(data, '*');
      await done;
      document.body.getBoundingClientRect();
      void document.body.offsetHeight;
      out.push(performance.now() - t0);
    }
    return out;
  }, { msgs: messages, n: times + 1 });
  const [first, ...rest] = samples;
  const sorted = [...rest].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { first: round(first), median: round(sorted[Math.floor(sorted.length / 2)]), max: round(sorted[sorted.length - 1]), runs: rest.length };
}
