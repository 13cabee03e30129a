/** A one-line progress bar on stderr (a plain line per update when stderr is not a terminal). */
export function progressBar(label: string, total: number): { update(done: number): void; done(): void } {
  const tty = process.stderr.isTTY;
  let lastPct = -1;
  const render = (done: number) => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (pct === lastPct) return;
    lastPct = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${total}`;
    process.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };
  render(0);
  return {
    update: render,
    done() {
      render(total);
      if (tty) process.stderr.write('\n');
    },
  };
}
