// @vitest-environment node
import { type Attempt, backoff, Saver, type SaverStatus } from './saver';

/** A hand-driven clock: scheduled retries run only when the test says so. */
function manualScheduler() {
  const queue: { fn: () => void; ms: number }[] = [];
  return {
    queue,
    schedule: (fn: () => void, ms: number) => { const entry = { fn, ms }; queue.push(entry); return entry; },
    cancel: (h: unknown) => { const i = queue.indexOf(h as { fn: () => void; ms: number }); if (i >= 0) queue.splice(i, 1); },
    runNext: () => { const next = queue.shift(); next?.fn(); return next?.ms; },
  };
}

const flush = () => new Promise(r => setTimeout(r, 0));

describe('Saver', () => {
  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map(a => backoff(a, 1000, 15000))).toEqual([1000, 2000, 4000, 8000, 15000, 15000]);
  });

  it('retries a failed save with backoff, reports it, and resolves once the server has it', async () => {
    const statuses: SaverStatus[] = [];
    const answers: Attempt[] = [{ kind: 'retry', message: 'Failed to fetch' }, { kind: 'retry', message: 'Failed to fetch' }, { kind: 'ok', version: 4 }];
    const sent: (number | null)[] = [];
    const clock = manualScheduler();
    const saver = new Saver(3, {
      send: async (_r, version) => { sent.push(version); return answers.shift() as Attempt; },
      refresh: async () => null, onStatus: s => statuses.push(s), schedule: clock.schedule, cancel: clock.cancel,
    });
    const done = saver.save({ result: { labels: ['a'] }, draft: false });
    await flush();
    expect(statuses.at(-1)).toMatchObject({ state: 'retrying', attempt: 1, nextRetryMs: 1000 });
    expect(saver.hasUnsaved).toBe(true);
    expect(clock.runNext()).toBe(1000);
    await flush();
    expect(statuses.at(-1)).toMatchObject({ state: 'retrying', attempt: 2, nextRetryMs: 2000 });
    clock.runNext();
    expect(await done).toBe(true);
    expect(statuses.at(-1)?.state).toBe('saved');
    expect(sent).toEqual([3, 3, 3]);
    expect(saver.currentVersion).toBe(4);
    expect(saver.hasUnsaved).toBe(false);
  });

  it('sends the newest result after a failure, and never turns a pending submit into a draft', async () => {
    const clock = manualScheduler();
    const bodies: unknown[] = [];
    let fail = true;
    const saver = new Saver(null, {
      send: async r => { bodies.push(r); return fail ? { kind: 'retry', message: 'offline' } : { kind: 'ok', version: 1 }; },
      refresh: async () => null, onStatus: () => {}, schedule: clock.schedule, cancel: clock.cancel,
    });
    void saver.save({ result: { n: 1 }, draft: false });
    await flush();
    const done = saver.save({ result: { n: 2 }, draft: true });
    fail = false;
    clock.runNext();
    expect(await done).toBe(true);
    expect(bodies).toEqual([{ result: { n: 1 }, draft: false }, { result: { n: 2 }, draft: false }]);
  });

  it('takes the server version after a 412 and sends again', async () => {
    const versions: (number | null)[] = [];
    const saver = new Saver(1, {
      send: async (_r, v) => { versions.push(v); return v === 1 ? { kind: 'conflict' } : { kind: 'ok', version: 3 }; },
      refresh: async () => 2, onStatus: () => {},
    });
    expect(await saver.save({ result: {}, draft: true })).toBe(true);
    expect(versions).toEqual([1, 2]);
  });

  it('treats a thrown network error as retryable and stops on a rejection', async () => {
    const clock = manualScheduler();
    const statuses: SaverStatus[] = [];
    let call = 0;
    const saver = new Saver(null, {
      send: async () => { call++; if (call === 1) throw new TypeError('Failed to fetch'); return { kind: 'rejected', message: 'result.boxes[0].x: out of range' }; },
      refresh: async () => null, onStatus: s => statuses.push(s), schedule: clock.schedule, cancel: clock.cancel,
    });
    const done = saver.save({ result: {}, draft: false });
    await flush();
    expect(statuses.at(-1)).toMatchObject({ state: 'retrying', message: 'Failed to fetch' });
    saver.retryNow();
    expect(await done).toBe(false);
    expect(statuses.at(-1)).toMatchObject({ state: 'rejected', message: 'result.boxes[0].x: out of range' });
    expect(clock.queue).toHaveLength(0);
  });
});
