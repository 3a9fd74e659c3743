import { fireEvent, render, screen } from '@testing-library/react';
import { SaveBanner } from './SaveBanner';

describe('SaveBanner', () => {
  it('shows an alert with the retry countdown and a retry button while a save is failing', () => {
    const retry = vi.fn();
    render(<SaveBanner status={{ state: 'retrying', message: 'Failed to fetch', attempt: 2, nextRetryMs: 4000 }} onRetry={retry} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Not saved yet');
    expect(alert.textContent).toContain('4 s');
    expect(alert.textContent).toContain('attempt 3');
    fireEvent.click(screen.getByText('Retry now'));
    expect(retry).toHaveBeenCalledOnce();
  });

  it('stays quiet when saved', () => {
    render(<SaveBanner status={{ state: 'saved', message: null, attempt: 0, nextRetryMs: null }} onRetry={() => {}} />);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('save-state').textContent).toBe('All changes saved');
  });
});
