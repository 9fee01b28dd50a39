// Block limits (API timeout, function CPU time and memory) are optional numbers: an empty
// field means "not set" (the server's default applies), anything else is sent as a number.
import type { InputHTMLAttributes } from 'react';

type Props = Omit<InputHTMLAttributes<HTMLInputElement>, 'type' | 'value' | 'onChange'> & {
  value: unknown;
  onChange: (value: number | undefined) => void;
};

/** A number input whose empty text stands for undefined. */
export function OptionalNumberInput({ value, onChange, ...rest }: Props) {
  return (
    <input
      type="number"
      {...rest}
      value={value === undefined ? '' : String(value)}
      onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
    />
  );
}
