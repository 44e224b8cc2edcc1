import { useEffect, useState } from 'react';
import { apiGet, ApiError } from './api';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: ApiError | Error } | { state: 'done'; data: T };

/** GETs `path` (again whenever it changes; null fetches nothing) and cancels the request when the page moves on. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    setLoaded({ state: 'loading' });
    apiGet<T>(path, abort.signal).then(
      (data) => setLoaded({ state: 'done', data }),
      (error: unknown) => {
        if (!abort.signal.aborted) setLoaded({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => abort.abort();
  }, [path]);
  return loaded;
}
