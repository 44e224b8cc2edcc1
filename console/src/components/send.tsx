import { useState } from 'react';
import { apiPost } from '../api';

export type Outcome = { ok: true; message: string } | { ok: false; message: string } | null;

/**
 * Sends one change to the API (approve, activate, replay…) and keeps its outcome for the page to show: the
 * server's own message on a refusal, so a person learns why (a 403 names the role, a 409 the state).
 */
export function useSend(onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  async function send<T>(path: string, body: unknown, success: (answer: T) => string): Promise<T | null> {
    setBusy(true);
    setOutcome(null);
    try {
      const answer = await apiPost<T>(path, body);
      setOutcome({ ok: true, message: success(answer) });
      onDone();
      return answer;
    } catch (error) {
      setOutcome({ ok: false, message: error instanceof Error ? error.message : String(error) });
      return null;
    } finally {
      setBusy(false);
    }
  }
  return { send, busy, outcome };
}

/** The outcome of the last change: announced politely when it worked, as an alert when refused. */
export function OutcomeNote({ outcome }: { outcome: Outcome }) {
  if (outcome === null) return null;
  return outcome.ok ? (
    <p role="status" className="ok" data-testid="outcome">
      {outcome.message}
    </p>
  ) : (
    <p role="alert" className="error" data-testid="outcome">
      {outcome.message}
    </p>
  );
}
