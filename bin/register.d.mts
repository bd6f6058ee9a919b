// Types of bin/register.mjs for the TypeScript that imports it (cli/models.ts).
export declare const ROOT: string;
export declare function registerLoaders(options?: { dist?: boolean }): Promise<void>;
export declare function registeredLoaders(): { dist: boolean; url: string } | null;
