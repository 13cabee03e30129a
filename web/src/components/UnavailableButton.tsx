import type { ButtonHTMLAttributes } from 'react';

type Props = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'disabled' | 'aria-disabled'> & {
  /** Not to be pressed now: its work is under way, or something it needs is missing. */
  unavailable: boolean;
};

/**
 * A button that can be unavailable without being `disabled`. A disabled button cannot hold focus: the
 * one just pressed lost it to <body> the moment its work began (out of a dialog, too), and a keyboard or
 * screen-reader user had to find their place again. This one says so with aria-disabled, stays
 * focusable, and ignores presses meanwhile: a click, and a form's Enter, which clicks its submit button.
 * The one rule for every button that waits on its own work.
 */
export function UnavailableButton({ unavailable, onClick, ...rest }: Props) {
  return (
    <button
      {...rest}
      aria-disabled={unavailable || undefined}
      onClick={(e) => {
        if (unavailable) e.preventDefault();
        else onClick?.(e);
      }}
    />
  );
}
