// CodeMirror 6 for Function block code. Loaded lazily (its own chunk) so the first load of
// the editor stays light.
import { javascript } from '@codemirror/lang-javascript';
import CodeMirror from '@uiw/react-codemirror';

const extensions = [javascript()];

export default function FunctionCodeEditor(props: {
  value: string;
  onChange: (v: string) => void;
  readOnly: boolean;
}) {
  return (
    <CodeMirror
      value={props.value}
      height="220px"
      extensions={extensions}
      readOnly={props.readOnly}
      basicSetup={{ lineNumbers: true, foldGutter: false, highlightActiveLine: true }}
      onChange={(v) => props.onChange(v)}
      aria-label="Function code"
      data-testid="function-code"
    />
  );
}
