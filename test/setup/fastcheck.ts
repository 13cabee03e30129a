// Every property test runs with one fixed seed, so a run on CI is the run a developer repeats. Set
// FC_SEED to explore other seeds locally (a failure prints the seed and path to replay it).
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20_261_130) });
