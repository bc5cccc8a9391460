import { useEffect, useState } from 'preact/hooks';

/** The views, from the hash: `#/` the fleet, `#/workers/<id>` one worker. */
export type Route = { readonly view: 'fleet' } | { readonly view: 'worker'; readonly id: string };

export function parseRoute(hash: string): Route {
  const match = /^#\/workers\/([^/?#]+)$/.exec(hash);
  if (match?.[1] !== undefined) {
    try {
      return { view: 'worker', id: decodeURIComponent(match[1]) };
    } catch {
      return { view: 'fleet' };
    }
  }
  return { view: 'fleet' };
}

export const workerHref = (id: string): string => `#/workers/${encodeURIComponent(id)}`;

/** The route of the page, following `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
