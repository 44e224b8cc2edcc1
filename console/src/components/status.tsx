import type { ReactNode } from 'react';
import type { Loaded } from '../use-api';

/** Renders the loading and error states of a request in one way everywhere, and the page once the data is there. */
export function Await<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  if (loaded.state === 'loading') return <p aria-busy="true">Loading…</p>;
  if (loaded.state === 'error') {
    return (
      <p role="alert" className="error">
        {loaded.error.message}
      </p>
    );
  }
  return <>{children(loaded.data)}</>;
}
