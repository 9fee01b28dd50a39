// Error and success toasts. Error toasts show the server's message (which the server has
// already passed through its redactor) and its code.
import { createContext, useCallback, useContext, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { ApiError } from './api';

interface Toast {
  id: number;
  kind: 'error' | 'ok';
  text: string;
  code?: string;
}
interface ToastApi {
  error(err: unknown): void;
  ok(text: string): void;
}

const ToastContext = createContext<ToastApi>({ error: () => {}, ok: () => {} });
let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const push = useCallback(
    (t: Omit<Toast, 'id'>) => {
      const id = nextId++;
      setToasts((list) => [...list.slice(-3), { ...t, id }]);
      setTimeout(() => dismiss(id), t.kind === 'error' ? 8000 : 3000);
    },
    [dismiss],
  );
  const value = useMemo<ToastApi>(
    () => ({
      error: (err) => {
        if (err instanceof ApiError) push({ kind: 'error', text: err.message, code: err.code });
        else push({ kind: 'error', text: err instanceof Error ? err.message : String(err) });
      },
      ok: (text) => push({ kind: 'ok', text }),
    }),
    [push],
  );
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} data-testid={`toast-${t.kind}`}>
            <span>
              {t.code && <code className="toast-code">{t.code}</code>} {t.text}
            </span>
            <button className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  return useContext(ToastContext);
}
