// A template input: shows `<secret:…>` and `{{…}}` as chips while not being edited; typing
// `<` (or the 🔑 button) opens the secret dropdown and inserts the picked reference at the
// caret; typing `{{` offers flow variables and settings.
import { useEffect, useRef, useState } from 'react';
import type { ChangeEvent, KeyboardEvent } from 'react';
import type { SecretType } from '../api';
import { SecretDropdown } from './secret-dropdown';
import { TemplateText } from './template-text';
import { KeyIcon } from '../key-icon';

interface Props {
  value: string;
  onChange: (v: string) => void;
  testId: string;
  label?: string;
  placeholder?: string;
  variables: string[];
  secrets?: boolean;
  readOnly?: boolean;
  multiline?: boolean;
  secretTypes?: SecretType[];
}

type Popup =
  { kind: 'secret'; at: number; literal: boolean } | { kind: 'var'; at: number; prefix: string } | null;

export function TemplateField(props: Props) {
  const [editing, setEditing] = useState(false);
  const [popup, setPopup] = useState<Popup>(null);
  const [varActive, setVarActive] = useState(0);
  const inputRef = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const secretsOn = props.secrets !== false && !props.readOnly;
  const boxRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (popup?.kind !== 'secret') return;
    const outside = (ev: MouseEvent) => {
      if (!boxRef.current?.contains(ev.target as Node)) setPopup(null);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [popup]);

  const focusAt = (pos: number) => {
    requestAnimationFrame(() => {
      const el = inputRef.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(pos, pos);
    });
  };

  const insert = (text: string, at: number, replace: number) => {
    const v = props.value;
    const next = v.slice(0, at - replace) + text + v.slice(at);
    props.onChange(next);
    setPopup(null);
    // keep the raw input (caret after the reference) until the field loses focus; then chips
    setEditing(true);
    focusAt(at - replace + text.length);
  };

  const varMatches =
    popup?.kind === 'var'
      ? props.variables.filter((n) => n.toLowerCase().startsWith(popup.prefix.toLowerCase())).slice(0, 8)
      : [];

  const onInput = (next: string, caret: number) => {
    props.onChange(next);
    const before = next.slice(0, caret);
    const m = /\{\{\s*([\w.]*)$/.exec(before);
    if (m) {
      setPopup({ kind: 'var', at: caret, prefix: m[1] ?? '' });
      setVarActive(0);
    } else if (popup?.kind === 'var') setPopup(null);
  };

  const showView = !editing && !popup && (props.value.includes('<secret:') || props.value.includes('{{'));
  const common = {
    ref: inputRef,
    value: props.value,
    placeholder: props.placeholder,
    readOnly: props.readOnly,
    spellCheck: false,
    'aria-label': props.label,
    'data-testid': props.testId,
    onFocus: () => setEditing(true),
    onBlur: () => {
      setEditing(false);
      if (popup?.kind === 'var') setPopup(null);
    },
    onChange: (e: ChangeEvent<HTMLInputElement & HTMLTextAreaElement>) =>
      onInput(e.target.value, e.target.selectionStart ?? e.target.value.length),
    onKeyDown: (e: KeyboardEvent<HTMLInputElement & HTMLTextAreaElement>) => {
      if (popup?.kind === 'var' && varMatches.length) {
        if (e.key === 'ArrowDown') {
          e.preventDefault();
          setVarActive((a) => Math.min(varMatches.length - 1, a + 1));
          return;
        }
        if (e.key === 'ArrowUp') {
          e.preventDefault();
          setVarActive((a) => Math.max(0, a - 1));
          return;
        }
        if (e.key === 'Enter' || e.key === 'Tab') {
          e.preventDefault();
          const name = varMatches[varActive];
          if (name) insert(`${name}}}`, popup.at, popup.prefix.length);
          return;
        }
      }
      if (e.key === 'Escape' && popup) {
        e.preventDefault();
        e.stopPropagation();
        setPopup(null);
        return;
      }
      if (e.key === '<' && secretsOn) {
        // `<` opens the dropdown; closing it without a pick types the `<` after all
        e.preventDefault();
        const el = e.currentTarget;
        const caret = el.selectionStart ?? props.value.length;
        const end = el.selectionEnd ?? caret;
        if (end !== caret) props.onChange(props.value.slice(0, caret) + props.value.slice(end));
        setPopup({ kind: 'secret', at: caret, literal: true });
      }
    },
  };

  return (
    <div className="tfield" ref={boxRef}>
      {showView ? (
        <div
          className="tfield-view"
          tabIndex={props.readOnly ? -1 : 0}
          role="textbox"
          aria-label={props.label}
          aria-readonly={props.readOnly}
          data-testid={`${props.testId}-view`}
          onFocus={() => {
            if (props.readOnly) return;
            setEditing(true);
            focusAt(props.value.length);
          }}
          onClick={() => {
            if (props.readOnly) return;
            setEditing(true);
            focusAt(props.value.length);
          }}
        >
          <TemplateText text={props.value} />
        </div>
      ) : props.multiline ? (
        <textarea {...common} rows={5} />
      ) : (
        <input {...common} autoComplete="off" />
      )}
      {secretsOn && (
        <button
          type="button"
          className="key-btn"
          title="Insert a secret reference"
          aria-label={`Insert a secret into ${props.label ?? 'field'}`}
          data-testid={`${props.testId}-key`}
          onClick={() => {
            const el = inputRef.current;
            const caret = el && editing ? (el.selectionStart ?? props.value.length) : props.value.length;
            setPopup(popup?.kind === 'secret' ? null : { kind: 'secret', at: caret, literal: false });
          }}
        >
          <KeyIcon size={14} />
        </button>
      )}
      {popup?.kind === 'secret' && (
        <SecretDropdown
          mode="ref"
          types={props.secretTypes}
          onPick={(_pick, text) => insert(text, popup.at, 0)}
          onClose={() => {
            if (popup.literal) insert('<', popup.at, 0);
            else {
              setPopup(null);
              focusAt(popup.at);
            }
          }}
        />
      )}
      {popup?.kind === 'var' && varMatches.length > 0 && (
        <div className="dropdown" role="listbox" aria-label="Variables" data-testid="var-dropdown">
          {varMatches.map((n, i) => (
            <div
              key={n}
              role="option"
              aria-selected={i === varActive}
              className={`dd-item${i === varActive ? ' active' : ''}`}
              onMouseDown={(e) => {
                e.preventDefault();
                insert(`${n}}}`, popup.at, popup.prefix.length);
              }}
            >
              <span className="chip chip-var">{n}</span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
