import { useEffect, useRef } from 'react';

/**
 * Rotate and the field for the new credential replace each other: when `rotating` changes, focus
 * moves to whichever is now shown, so a keyboard user is never left on a button that has just gone.
 * Nothing moves on the first render (opening a form keeps the focus the dialog gave it). One hook for
 * every credential a form can rotate: the auth header and a custom webhook's OAuth2 client secret.
 */
export function useRotateFocus(rotating: boolean) {
  const rotateButton = useRef<HTMLButtonElement>(null);
  const newInput = useRef<HTMLInputElement>(null);
  const wasRotating = useRef(rotating);
  useEffect(() => {
    if (wasRotating.current === rotating) return;
    wasRotating.current = rotating;
    (rotating ? newInput.current : rotateButton.current)?.focus();
  }, [rotating]);
  return { rotateButton, newInput };
}
