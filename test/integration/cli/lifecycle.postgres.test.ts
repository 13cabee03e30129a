// The CLI against a real PostgreSQL schema: see lifecycleSuite.ts.
import { cliLifecycleSuite } from './lifecycleSuite.js';

cliLifecycleSuite('postgres');
