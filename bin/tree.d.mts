// Types of bin/tree.mjs for the TypeScript that imports it (bench/run.ts, tests).
export declare const SOURCE_ROOTS: string[];
export declare const BUILD_INPUTS: string[];
export declare const DIST: string;
export declare const STAMP: string;
export declare function sourceFiles(root: string, roots?: string[]): string[];
export declare function sourceDigest(root: string): string;
export declare function statSignature(root: string): string;
export declare function statSignatureAt(root: string, at: number): string | null;
export declare function distState(root: string): 'fresh' | 'stale' | 'missing';
export declare function chooseTree(root: string, from?: string): { dist?: boolean; error?: string };
