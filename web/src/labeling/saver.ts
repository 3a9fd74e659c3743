// Saving a task's annotation so that no work is lost: the latest result is kept until the server has it; a failed
// save (network drop, server restart, 5xx) shows a banner and retries with exponential backoff, forever, until it
// succeeds or the server answers that the request itself is wrong (4xx other than 408/412/429).

export interface SaveRequest { result: unknown; draft: boolean }

/** What one attempt returned: ok with the new version, retryable, or a final rejection with the server's words. */
export type Attempt =
  | { kind: 'ok'; version: number }
  | { kind: 'retry'; message: string }
  | { kind: 'conflict' }
  | { kind: 'rejected'; message: string };

export interface SaverStatus {
  state: 'idle' | 'saving' | 'saved' | 'retrying' | 'rejected';
  message: string | null;
  attempt: number;
  nextRetryMs: number | null;
}

export interface SaverOptions {
  /** Sends one PUT; `version` is the If-Match version or null. */
  send: (request: SaveRequest, version: number | null) => Promise<Attempt>;
  /** Re-reads the current version after a 412 (the last save may have reached the server before the network failed). */
  refresh: () => Promise<number | null>;
  onStatus: (status: SaverStatus) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
  schedule?: (fn: () => void, ms: number) => unknown;
  cancel?: (handle: unknown) => void;
}

export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export class Saver {
  private version: number | null;
  private pending: SaveRequest | null = null;
  private running = false;
  private timer: unknown = null;
  private attempt = 0;
  private waiters: { resolve: (ok: boolean) => void }[] = [];
  private readonly opts: Required<SaverOptions>;

  constructor(version: number | null, options: SaverOptions) {
    this.version = version;
    this.opts = {
      baseDelayMs: 1000, maxDelayMs: 15000,
      schedule: (fn, ms) => setTimeout(fn, ms), cancel: h => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...options,
    };
  }

  get currentVersion(): number | null { return this.version; }
  get hasUnsaved(): boolean { return this.pending !== null || this.running; }

  /** Queues the latest result; a newer request replaces an older one not yet sent. Resolves true once saved. */
  save(request: SaveRequest): Promise<boolean> {
    // A submit is never downgraded to a draft by a later autosave.
    if (this.pending && !this.pending.draft && request.draft) request = { ...request, draft: false };
    this.pending = request;
    const done = new Promise<boolean>(resolve => this.waiters.push({ resolve }));
    if (!this.running && this.timer === null) void this.flush();
    return done;
  }

  /** Retries now instead of waiting out the backoff (the banner's "Retry now"). */
  retryNow(): void {
    if (this.timer !== null) { this.opts.cancel(this.timer); this.timer = null; void this.flush(); }
  }

  dispose(): void {
    if (this.timer !== null) this.opts.cancel(this.timer);
    this.timer = null;
  }

  private status(state: SaverStatus['state'], message: string | null = null, nextRetryMs: number | null = null) {
    this.opts.onStatus({ state, message, attempt: this.attempt, nextRetryMs });
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const request = this.pending;
    if (!request) return;
    this.pending = null;
    this.running = true;
    this.status('saving');
    let outcome: Attempt;
    try {
      outcome = await this.opts.send(request, this.version);
      if (outcome.kind === 'conflict') {
        // 412: someone (most likely our own earlier attempt whose answer was lost) changed it; take the new version.
        this.version = await this.opts.refresh();
        outcome = await this.opts.send(request, this.version);
        if (outcome.kind === 'conflict') outcome = { kind: 'retry', message: 'The annotation changed on the server; retrying.' };
      }
    } catch (error) {
      outcome = { kind: 'retry', message: error instanceof Error ? error.message : String(error) };
    }
    this.running = false;
    if (outcome.kind === 'ok') {
      this.version = outcome.version;
      this.attempt = 0;
      if (this.pending) { void this.flush(); return; }
      this.status('saved');
      this.settle(true);
      return;
    }
    if (outcome.kind === 'rejected') {
      this.attempt = 0;
      this.status('rejected', outcome.message);
      if (this.pending) { void this.flush(); return; }
      this.settle(false);
      return;
    }
    // Keep the unsent work: a newer request queued meanwhile wins, else this one goes again.
    if (!this.pending) this.pending = request;
    this.attempt += 1;
    const delay = backoff(this.attempt, this.opts.baseDelayMs, this.opts.maxDelayMs);
    this.status('retrying', outcome.message, delay);
    this.timer = this.opts.schedule(() => void this.flush(), delay);
  }

  private settle(ok: boolean) {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(ok);
  }
}
