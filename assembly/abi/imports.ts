// Host calls the module may make. Kept few: the hot paths run without leaving wasm.

/** Matches the bytes [ptr, ptr+len) against the regex the host registered as `regexId`; 1 = match. */
@external("skiff", "regex_match")
export declare function host_regex_match(regexId: i32, ptr: usize, len: usize): i32;
