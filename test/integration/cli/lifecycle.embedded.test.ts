// The CLI against an embedded data directory: see lifecycleSuite.ts.
import { cliLifecycleSuite } from './lifecycleSuite.js';

cliLifecycleSuite('embedded');
