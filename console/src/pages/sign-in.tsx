import { useState, type FormEvent } from 'react';
import { apiGet, session } from '../api';
import type { Me } from '../types';

/** Sign-in with an API key (made with `foresight api-key create`): checked against GET /me before it is kept. */
export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    session.signIn(key.trim());
    try {
      onSignedIn(await apiGet<Me>('/me'));
    } catch (err) {
      session.signOut();
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>Foresight console</h1>
      <form onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
        />
        <p className="muted">
          Kept in this tab only (session storage). An administrator creates keys with <code>foresight api-key create</code>.
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
