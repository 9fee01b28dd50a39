// The secret dropdown: searchable list of the project's secrets with type, visibility and the
// environments that have a value, and where its value lives (flowsafe or a secret store).
// Picking inserts a reference (`<secret:NAME>` or `<secret:NAME.field>`, or just the name for
// block auth). Owners and admins can create or edit a secret inline without leaving the
// block. Only metadata is ever shown.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { SecretMeta, SecretType } from '../api';
import { useProject } from '../project-context';
import { SecretForm } from '../secrets/secret-form';
import { refFields, secretRef } from '../template-tokens';

export interface SecretPick {
  name: string;
  field?: string;
}

interface Option {
  secret: SecretMeta;
  field?: string;
  label: string;
}

export function EnvBadges(props: { secret: SecretMeta; environments: string[] }) {
  const v = props.secret.values ?? {};
  const missing = new Set(props.secret.missing ?? []);
  return (
    <span className="dd-envs" data-testid="env-badges">
      {['default', ...props.environments].map((env) => {
        const has = v[env] === true;
        const inherits = !has && env !== 'default' && v.default === true;
        const cls = missing.has(env)
          ? 'badge missing'
          : has
            ? 'badge ok'
            : inherits
              ? 'badge'
              : 'badge env-off';
        const title = missing.has(env)
          ? 'missing after import'
          : has
            ? 'has a value'
            : inherits
              ? 'uses the default'
              : 'no value';
        return (
          <span key={env} className={cls} title={`${env}: ${title}`}>
            {has ? '●' : inherits ? '↳' : missing.has(env) ? '!' : '○'} {env}
          </span>
        );
      })}
    </span>
  );
}

/** Where a secret's value lives: sealed in flowsafe, or in an external secret store. */
export function SecretHome(props: { secret: SecretMeta }) {
  const src = props.secret.source;
  return (
    <span
      className={src ? 'badge store' : 'badge'}
      data-testid={`secret-home-${props.secret.name}`}
      title={src ? `value kept in secret store ${src.store}, ref ${src.ref}` : 'value sealed in flowsafe'}
    >
      {src ? `in ${src.store}` : 'in flowsafe'}
    </span>
  );
}

export function SecretDropdown(props: {
  mode: 'ref' | 'name';
  types?: SecretType[];
  onPick: (pick: SecretPick, text: string) => void;
  onClose: () => void;
}) {
  const { secrets, perms, environments } = useProject();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const [form, setForm] = useState<{ edit?: SecretMeta } | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLDivElement>(null);

  const options = useMemo<Option[]>(() => {
    const q = query.toLowerCase();
    const out: Option[] = [];
    for (const s of secrets) {
      if (props.types && !props.types.includes(s.type)) continue;
      if (q && !s.name.toLowerCase().includes(q) && !(s.description ?? '').toLowerCase().includes(q))
        continue;
      if (props.mode === 'name') out.push({ secret: s, label: s.name });
      else for (const f of refFields(s.type)) out.push({ secret: s, field: f.field, label: f.label });
    }
    return out;
  }, [secrets, query, props.mode, props.types]);

  useEffect(() => {
    if (!form) searchRef.current?.focus();
  }, [form]);
  useEffect(() => setActive(0), [query]);
  useEffect(() => {
    listRef.current?.querySelector('.dd-item.active')?.scrollIntoView?.({ block: 'nearest' });
  }, [active]);

  const pick = (o: Option) => {
    props.onPick(
      { name: o.secret.name, field: o.field },
      props.mode === 'name' ? o.secret.name : secretRef(o.secret.name, o.field),
    );
  };

  if (form) {
    return (
      <div className="dropdown" data-testid="secret-dropdown" onMouseDown={(e) => e.stopPropagation()}>
        <SecretForm
          compact
          existing={form.edit}
          initialType={props.types?.[0]}
          onCancel={() => setForm(null)}
          onDone={(name, type) => {
            setForm(null);
            if (!form.edit) {
              // a new secret is picked at once; basic/oauth2 insert their first field
              const field = props.mode === 'ref' ? refFields(type)[0]?.field : undefined;
              props.onPick({ name, field }, props.mode === 'name' ? name : secretRef(name, field));
            }
          }}
        />
      </div>
    );
  }

  // group options by secret for display
  const groups: { secret: SecretMeta; items: { o: Option; index: number }[] }[] = [];
  options.forEach((o, index) => {
    const last = groups[groups.length - 1];
    if (last && last.secret === o.secret) last.items.push({ o, index });
    else groups.push({ secret: o.secret, items: [{ o, index }] });
  });

  return (
    <div
      className="dropdown"
      role="dialog"
      aria-label="Insert a secret reference"
      data-testid="secret-dropdown"
      onMouseDown={(e) => e.stopPropagation()}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          props.onClose();
        } else if (e.key === 'ArrowDown') {
          e.preventDefault();
          setActive((a) => Math.min(options.length - 1, a + 1));
        } else if (e.key === 'ArrowUp') {
          e.preventDefault();
          setActive((a) => Math.max(0, a - 1));
        } else if (e.key === 'Enter' && e.target === searchRef.current) {
          e.preventDefault();
          const o = options[active];
          if (o) pick(o);
        }
      }}
    >
      <input
        ref={searchRef}
        type="search"
        placeholder="Search secrets…"
        aria-label="Search secrets"
        data-testid="secret-search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        role="combobox"
        aria-expanded="true"
        aria-controls="secret-options"
        aria-activedescendant={options[active] ? `secret-opt-${active}` : undefined}
      />
      <div ref={listRef} id="secret-options" role="listbox">
        {groups.length === 0 && (
          <div className="dd-empty">
            {secrets.length === 0 ? 'This project has no secrets yet.' : `No secret matches “${query}”.`}
          </div>
        )}
        {groups.map((g) => (
          <div key={g.secret.name} className="dd-group" data-testid="secret-option-group">
            <div
              className={`dd-item${g.items.some((i) => i.index === active) ? ' active' : ''}`}
              onMouseEnter={() => setActive(g.items[0]?.index ?? 0)}
            >
              <button
                type="button"
                className="linklike dd-name"
                id={g.items.length === 1 ? `secret-opt-${g.items[0]?.index}` : undefined}
                role="option"
                aria-selected={g.items[0]?.index === active}
                data-testid={`secret-option-${g.secret.name}`}
                onClick={() => g.items[0] && pick(g.items[0].o)}
              >
                {g.secret.name}
              </button>
              <span className="badge type">{g.secret.type}</span>
              <span className={`badge vis-${g.secret.visibility}`}>{g.secret.visibility}</span>
              <SecretHome secret={g.secret} />
              {perms.manageSecrets && (
                <button
                  type="button"
                  className="ghost small"
                  style={{ marginLeft: 'auto' }}
                  data-testid={`secret-edit-${g.secret.name}`}
                  onClick={() => setForm({ edit: g.secret })}
                >
                  Edit…
                </button>
              )}
              <EnvBadges secret={g.secret} environments={environments} />
              {g.items.length > 1 && (
                <span className="dd-fields">
                  {g.items.map(({ o, index }) => (
                    <button
                      key={o.label}
                      type="button"
                      id={`secret-opt-${index}`}
                      role="option"
                      aria-selected={index === active}
                      className={`small${index === active ? ' primary' : ''}`}
                      data-testid={`secret-option-${g.secret.name}-${o.field ?? 'token'}`}
                      onClick={() => pick(o)}
                    >
                      {o.field ? `.${o.field}` : o.label}
                    </button>
                  ))}
                </span>
              )}
            </div>
          </div>
        ))}
      </div>
      {perms.manageSecrets ? (
        <div className="dd-foot">
          <button
            type="button"
            className="ghost"
            data-testid="secret-create-inline"
            onClick={() => setForm({})}
          >
            + Create secret…
          </button>
        </div>
      ) : (
        <div className="dd-foot hint" style={{ padding: 6 }}>
          Only owners and admins can create or edit secrets.
        </div>
      )}
    </div>
  );
}
