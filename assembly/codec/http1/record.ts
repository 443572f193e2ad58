// Helpers every HTTP/1 parser file uses to read the input and write the head record.
import { HEAD_STATUS, HEAD_LENGTH } from "../../abi/layout";

export const CR: u32 = 13;
export const LF: u32 = 10;
export const SP: u32 = 32;

// @ts-ignore: decorator
@inline export function byteAt(buf: usize, i: i32): u32 {
  return <u32>load<u8>(buf + <usize>i);
}

// @ts-ignore: decorator
@inline export function put(rec: usize, off: i32, v: i32): void {
  store<i32>(rec + <usize>off, v);
}

/** Records an error found at offset `at` (HEAD_STATUS = code, HEAD_LENGTH = at) and returns the code. */
export function fail(rec: usize, code: i32, at: i32): i32 {
  put(rec, HEAD_STATUS, code);
  put(rec, HEAD_LENGTH, at);
  return code;
}
