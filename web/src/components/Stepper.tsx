const STEPS = ['Choose your SIEM', 'Configure', 'Save & test', 'Enable'] as const;

/** Add destination's progress: the steps done, the current one and the ones to come. */
export function Stepper({ step }: { step: number }) {
  return (
    <ol className="stepper" aria-label="Progress">
      {STEPS.map((s, i) => (
        <li key={s} className={i === step ? 'current' : i < step ? 'done' : ''} aria-current={i === step ? 'step' : undefined}>
          <span className="step-num" aria-hidden="true">
            {i < step ? '✓' : i + 1}
          </span>
          <span className="step-name">{s}</span>
        </li>
      ))}
    </ol>
  );
}
