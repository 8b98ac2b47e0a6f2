#!/usr/bin/env node
// `npm run package`: build, then make the platform-specific VSIX in dist-vsix/.
import { build, ensureNodeModules, packageVsix } from './lib/bootstrap.mjs';

ensureNodeModules();
build();
const vsix = packageVsix();
console.log(vsix);
