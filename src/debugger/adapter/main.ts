/** The vtx debug adapter over stdio (bundled to dist/adapter.js; the extension runs it as a DebugAdapterExecutable). */
import { DebugSession } from '@vscode/debugadapter';
import { VtxDebugSession } from './session';

DebugSession.run(VtxDebugSession);
