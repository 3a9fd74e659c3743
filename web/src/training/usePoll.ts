import { useEffect, useRef } from 'react';

/**
 * Calls `load` now and, while `active` says there is something still changing, again `everyMs` after each answer
 * (never two at once, so a slow server is not flooded). Changing `load` restarts the cycle.
 */
export function usePoll(load: () => Promise<unknown>, active: boolean, everyMs: number): void {
  const activeRef = useRef(active);
  activeRef.current = active;
  const wake = useRef<(() => void) | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function tick() {
      try { await load(); } catch { /* load reports its own errors */ }
      if (stopped) return;
      if (activeRef.current) timer = setTimeout(() => void tick(), everyMs);
      else wake.current = () => { wake.current = null; void tick(); };
    }
    void tick();
    return () => { stopped = true; clearTimeout(timer); wake.current = null; };
  }, [load, everyMs]);

  // A page that became active again (a job was submitted) resumes polling.
  useEffect(() => { if (active) wake.current?.(); }, [active]);
}
