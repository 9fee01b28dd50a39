// A tiny router over location.hash (#/flows, #/flows/<id>, #/secrets, #/settings, #/stores). Only
// view names and flow ids go in the URL — never a token.
import { useCallback, useEffect, useState } from 'react';

export type Route =
  | { view: 'flows' }
  | { view: 'flow'; id: string }
  | { view: 'secrets' }
  | { view: 'settings' }
  | { view: 'stores' };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'flows' && parts[1]) return { view: 'flow', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'secrets') return { view: 'secrets' };
  if (parts[0] === 'settings') return { view: 'settings' };
  if (parts[0] === 'stores') return { view: 'stores' };
  return { view: 'flows' };
}

export function formatRoute(route: Route): string {
  return route.view === 'flow' ? `#/flows/${encodeURIComponent(route.id)}` : `#/${route.view}`;
}

export function useHashRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const navigate = useCallback((r: Route) => {
    const h = formatRoute(r);
    if (location.hash !== h) location.hash = h;
    setRoute(r);
  }, []);
  return [route, navigate];
}
