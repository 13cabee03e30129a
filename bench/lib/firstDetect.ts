// Run in a fresh process by detection.ts: the first detect() of the text in argv, in ms. The patterns
// compile on first use, once for texts within Latin-1 and once for texts past it: a long first call
// holds the event loop of the process that reads such a text first.
import { detect } from '../../src/events/detect.js';

const t0 = performance.now();
detect(process.argv[2] ?? '');
process.stdout.write(String(Math.round(performance.now() - t0)));
