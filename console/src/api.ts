/**
 * The console talks to the API over HTTP only, with the signed-in API key as a Bearer token. The key lives in
 * sessionStorage: it is gone when the tab closes and is never sent anywhere but this origin.
 */
const KEY_ITEM = 'foresight.apiKey';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY_ITEM),
  signIn: (key: string) => sessionStorage.setItem(KEY_ITEM, key),
  signOut: () => sessionStorage.removeItem(KEY_ITEM),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Listeners told when the API refuses the key (revoked, or signed out elsewhere): the app returns to sign-in. */
const unauthorisedListeners = new Set<() => void>();
export function onUnauthorised(listener: () => void): () => void {
  unauthorisedListeners.add(listener);
  return () => unauthorisedListeners.delete(listener);
}

export async function apiGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: { Accept: 'application/json', Authorization: `Bearer ${session.key() ?? ''}` }, signal });
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) {
    if (res.status === 401) unauthorisedListeners.forEach((listener) => listener());
    throw new ApiError(res.status, body?.error?.code ?? 'error', body?.error?.message ?? `The API answered ${res.status}`);
  }
  return body as T;
}
