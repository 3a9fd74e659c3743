import { useState } from 'react';
import { api, problemMessage } from '../api/client';

export function SignIn({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { error: failure, response } = await api.POST('/api/auth/sign-in', { body: { userName, password } });
      if (!response.ok) setError(response.status === 401 ? 'Wrong user name or password.' : problemMessage(failure));
      else await onSignedIn();
    } catch (err) {
      setError(problemMessage(err, 'Cube cannot be reached.'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Cube</h1>
        <label>User name<input name="userName" autoComplete="username" autoFocus value={userName} onChange={e => setUserName(e.target.value)} /></label>
        <label>Password<input name="password" type="password" autoComplete="current-password" value={password} onChange={e => setPassword(e.target.value)} /></label>
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy || !userName || !password}>Sign in</button>
      </form>
    </main>
  );
}
