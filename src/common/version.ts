declare const __SG_VERSION__: string | undefined;
/** The package version, injected by the build (scripts/build.mjs) into every bundle. */
export const VERSION: string = typeof __SG_VERSION__ === 'string' ? __SG_VERSION__ : '0.0.0-dev';
