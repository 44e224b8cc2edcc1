import { useEffect, useRef, useState } from 'react';
import { apiGet, ApiError } from './api';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: ApiError | Error } | { state: 'done'; data: T };

/**
 * GETs `path` (again whenever it or `version` changes: a page bumps `version` after a change it made; null fetches
 * nothing) and cancels the request when the page moves on. A reload of the same path keeps showing the previous
 * answer until the new one is there, so the page (and what it just told the person) stays in place.
 */
export function useApi<T>(path: string | null, version = 0): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const shownPath = useRef<string | null>(null);
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    if (shownPath.current !== path) setLoaded({ state: 'loading' });
    shownPath.current = path;
    apiGet<T>(path, abort.signal).then(
      (data) => setLoaded({ state: 'done', data }),
      (error: unknown) => {
        if (!abort.signal.aborted) setLoaded({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => abort.abort();
  }, [path, version]);
  return loaded;
}
