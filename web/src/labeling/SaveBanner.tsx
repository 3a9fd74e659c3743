import type { SaverStatus } from './saver';

/** What the annotator sees about saving: quiet when fine, a banner that cannot be missed when work is not on the server. */
export function SaveBanner({ status, onRetry }: { status: SaverStatus; onRetry: () => void }) {
  if (status.state === 'retrying') {
    const seconds = Math.ceil((status.nextRetryMs ?? 0) / 1000);
    return (
      <div className="banner warning" role="alert" data-testid="save-banner">
        <strong>Not saved yet.</strong> {status.message ? `${status.message}. ` : ''}
        Your work is kept here and will be sent again in {seconds} s (attempt {status.attempt + 1}).{' '}
        <button type="button" onClick={onRetry}>Retry now</button>
      </div>
    );
  }
  if (status.state === 'rejected') {
    return <div className="banner error" role="alert" data-testid="save-banner">The server refused this annotation: {status.message}</div>;
  }
  const text = status.state === 'saving' ? 'Saving…' : status.state === 'saved' ? 'All changes saved' : '';
  return <span className="save-state" data-testid="save-state" aria-live="polite">{text}</span>;
}
