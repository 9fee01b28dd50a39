// Editable name → template rows (query, headers, form bodies, set-block values).
import { useState } from 'react';
import { TemplateField } from './template-field';

export function KvEditor(props: {
  value: Record<string, string>;
  onChange: (v: Record<string, string>) => void;
  testId: string;
  keyPlaceholder: string;
  variables: string[];
  secrets?: boolean;
  readOnly?: boolean;
}) {
  const [rows, setRows] = useState<[string, string][]>(() =>
    Object.entries(props.value ?? {}).map(([k, v]) => [k, String(v)]),
  );
  const commit = (next: [string, string][]) => {
    setRows(next);
    const out: Record<string, string> = {};
    for (const [k, v] of next) if (k) out[k] = v;
    props.onChange(out);
  };
  return (
    <div className="kv" data-testid={props.testId}>
      {rows.map(([k, v], i) => (
        <div className="kv-row" key={i}>
          <input
            aria-label={`${props.keyPlaceholder} ${i + 1}`}
            placeholder={props.keyPlaceholder}
            value={k}
            readOnly={props.readOnly}
            spellCheck={false}
            data-testid={`${props.testId}-key-${i}`}
            onChange={(e) => commit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
          />
          <TemplateField
            value={v}
            label={`${k || props.keyPlaceholder} value`}
            testId={`${props.testId}-value-${i}`}
            variables={props.variables}
            secrets={props.secrets}
            readOnly={props.readOnly}
            onChange={(val) => commit(rows.map((r, j) => (j === i ? [r[0], val] : r)))}
          />
          {!props.readOnly && (
            <button
              type="button"
              className="icon-btn"
              aria-label={`Remove ${k || 'row'}`}
              onClick={() => commit(rows.filter((_, j) => j !== i))}
            >
              ×
            </button>
          )}
        </div>
      ))}
      {!props.readOnly && (
        <div>
          <button
            type="button"
            className="ghost small"
            data-testid={`${props.testId}-add`}
            onClick={() => setRows([...rows, ['', '']])}
          >
            + Add
          </button>
        </div>
      )}
    </div>
  );
}
