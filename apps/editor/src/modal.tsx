// An accessible dialog: focus moves inside on open, Escape closes, focus returns on close.
import { useEffect, useRef } from 'react';
import type { ReactNode } from 'react';

export function Modal(props: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>(
      'input, select, textarea, button:not(.modal-close)',
    );
    first?.focus();
    return () => previous?.focus?.();
  }, []);
  const onClose = props.onClose;
  useEffect(() => {
    // Escape closes the topmost dialog even when focus has left it (e.g. a clicked button vanished)
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key !== 'Escape' || ev.defaultPrevented) return;
      const dialogs = document.querySelectorAll('.modal');
      if (dialogs[dialogs.length - 1] !== ref.current) return;
      if (ref.current?.contains(document.activeElement)) return; // handled by onKeyDown below
      onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div
      className="modal-backdrop"
      onMouseDown={(ev) => {
        if (ev.target === ev.currentTarget) props.onClose();
      }}
    >
      <div
        ref={ref}
        className={`modal${props.wide ? ' modal-wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        data-testid={props.testId}
        onKeyDown={(ev) => {
          if (ev.key === 'Escape' && !ev.defaultPrevented) {
            ev.stopPropagation();
            ev.preventDefault();
            props.onClose();
          }
        }}
      >
        <header className="modal-head">
          <h2>{props.title}</h2>
          <button className="icon-btn modal-close" aria-label="Close" onClick={props.onClose}>
            ×
          </button>
        </header>
        <div className="modal-body">{props.children}</div>
      </div>
    </div>
  );
}
