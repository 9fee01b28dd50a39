// Renders template text with `<secret:NAME>` as secret chips and `{{var}}` as variable chips.
// Only reference names are ever shown, never a value.
import { tokenize } from '../template-tokens';
import { KeyIcon } from '../key-icon';

export function TemplateText(props: { text: string }) {
  return (
    <>
      {tokenize(props.text).map((t, i) =>
        t.kind === 'text' ? (
          <span key={i}>{t.text}</span>
        ) : t.kind === 'secret' ? (
          <span
            key={i}
            className="chip chip-secret"
            data-testid="secret-chip"
            title={`secret ${t.name}${t.field ? `.${t.field}` : ''}`}
          >
            <KeyIcon /> {t.name}
            {t.field ? `.${t.field}` : ''}
          </span>
        ) : (
          <span key={i} className="chip chip-var" title={`variable ${t.name}`}>
            {t.name}
          </span>
        ),
      )}
    </>
  );
}
