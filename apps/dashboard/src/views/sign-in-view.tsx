import { useState } from 'preact/hooks';
import type { HodeiApi } from '../api/hodei-api';

/** Exchanges the API token for a session cookie; the token itself is kept nowhere. */
export function SignInView({
  api,
  onSignedIn,
}: {
  readonly api: HodeiApi;
  readonly onSignedIn: () => void;
}) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    const r = await api.signIn(token);
    setBusy(false);
    if (r.ok) {
      setToken('');
      onSignedIn();
      return;
    }
    const e = r.error;
    if (e.status === 401) setProblem('That token was refused (401). Check HODEI_API_TOKEN.');
    else if (e.status === 429)
      setProblem(`Too many wrong tokens (429): try again in ${e.retryAfter ?? 'a while'} seconds.`);
    else
      setProblem(`Could not sign in: ${e.message} (${e.status === 0 ? 'no answer' : e.status}).`);
  };

  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p>
        Paste the server's API token (<code>HODEI_API_TOKEN</code>, or the file{' '}
        <code>.hodei/api-token</code>). It is exchanged for a session cookie and not stored.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby={problem === null ? undefined : 'sign-in-problem'}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {problem !== null && (
        <p id="sign-in-problem" class="problem" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
