/**
 * Host callbacks the wasm module imports (assembly/abi/imports.ts). Per thread: each thread installs the
 * callbacks for the data it owns (the router installs its regex table here).
 */
export interface HostCallbacks {
  /** Regex `id` of the current route table matched against memory [ptr, ptr+len): 1 match, 0 no match. */
  regexMatch(id: number, ptr: number, len: number): number;
}

export const hostCallbacks: HostCallbacks = {
  regexMatch: () => 0,
};
