/** A host function as registered in the import object (i32 params arrive as JS numbers, i64 as BigInt). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostFn = (...args: any[]) => number | void;
/** "module.name" → implementation. */
export type HostFunctions = Record<string, HostFn>;
