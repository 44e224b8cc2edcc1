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

/** A field the server named as at fault (e.g. `parameters.holdoutRate`), with why. */
export interface FieldIssue {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
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

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${session.key() ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  const answer = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; issues?: FieldIssue[] } } | null;
  if (!res.ok) {
    if (res.status === 401) unauthorisedListeners.forEach((listener) => listener());
    const error = answer?.error;
    throw new ApiError(res.status, error?.code ?? 'error', error?.message ?? `The API answered ${res.status}`, error?.issues ?? []);
  }
  return answer as T;
}

export const apiGet = <T>(path: string, signal?: AbortSignal): Promise<T> => request<T>('GET', path, undefined, signal);
/** A change (approve, activate, replay…): the server checks the role again and answers 4xx with a message on refusal. */
export const apiPost = <T>(path: string, body: unknown = {}): Promise<T> => request<T>('POST', path, body);

/**
 * Downloads a file the API answers (a CSV export) with the signed-in key: fetched like any request (a plain link
 * could not carry the Bearer token), then saved under the name the server gives in Content-Disposition.
 */
export async function apiDownload(path: string, fallbackName: string): Promise<void> {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${session.key() ?? ''}` } });
  if (!res.ok) {
    if (res.status === 401) unauthorisedListeners.forEach((listener) => listener());
    const answer = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(res.status, answer?.error?.code ?? 'error', answer?.error?.message ?? `The API answered ${res.status}`);
  }
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}
