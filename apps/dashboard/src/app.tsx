import { useEffect, useState } from 'preact/hooks';
import type { HodeiApi } from './api/hodei-api';
import type { LiveEvents } from './api/live-events';
import { LiveIndicator } from './components/live-indicator';
import { useRoute } from './lib/route';
import { FleetView } from './views/fleet-view';
import { SignInView } from './views/sign-in-view';
import { WorkerView } from './views/worker-view';

export interface Services {
  readonly api: HodeiApi;
  readonly live: LiveEvents;
}

type SessionState = 'checking' | 'signedOut' | 'signedIn';

/**
 * The page: the sign-in until a session exists (a reload asks the server whether the cookie
 * still holds one), then the view the hash names, with one live event stream for all views.
 */
export function App({ services }: { readonly services: Services }) {
  const { api, live } = services;
  const [session, setSession] = useState<SessionState>('checking');
  const route = useRoute();

  useEffect(() => {
    let active = true;
    void api.currentSession().then((r) => {
      if (active) setSession(r.ok ? 'signedIn' : 'signedOut');
    });
    const off = api.client.onSignedOut(() => setSession('signedOut'));
    return () => {
      active = false;
      off();
    };
  }, [api]);

  useEffect(() => {
    if (session === 'signedIn') live.open();
    else live.close();
  }, [session, live]);

  const signOut = async () => {
    await api.signOut();
    setSession('signedOut');
  };

  return (
    <>
      <a class="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header class="banner">
        <p class="brand">
          <a href="#/">Hodei Lifecycle</a>
        </p>
        {session === 'signedIn' && (
          <>
            <nav aria-label="Main">
              <ul class="nav-list">
                <li>
                  <a href="#/" aria-current={route.view === 'fleet' ? 'page' : undefined}>
                    Fleet
                  </a>
                </li>
              </ul>
            </nav>
            <LiveIndicator live={live} />
            <button type="button" class="button-quiet" onClick={() => void signOut()}>
              Sign out
            </button>
          </>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {session === 'checking' && <p role="status">Checking the session…</p>}
        {session === 'signedOut' && (
          <SignInView api={api} onSignedIn={() => setSession('signedIn')} />
        )}
        {session === 'signedIn' && route.view === 'fleet' && <FleetView services={services} />}
        {session === 'signedIn' && route.view === 'worker' && (
          <WorkerView key={route.id} id={route.id} services={services} />
        )}
      </main>
    </>
  );
}

/** The skip link moves focus without changing the hash route. */
function skipToMain(event: MouseEvent): void {
  event.preventDefault();
  document.getElementById('main')?.focus();
}
