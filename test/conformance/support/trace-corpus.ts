/**
 * Malformed trace-context headers (after the W3C trace-context test suite's cases): each must make
 * the filter treat the header as absent — a traceparent restarts the trace, a tracestate is dropped.
 */
export const VALID_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";

export const INVALID_TRACEPARENTS: string[] = [
  "",
  "00",
  "garbage",
  `00-${T}-${P}`,                          // no flags
  `00-${T}-${P}-0`,                        // short flags
  `00-${T}-${P}-01-`,                      // version 00 longer than 55
  `00-${T}-${P}-01-extra`,
  `ff-${T}-${P}-01`,                       // version ff is invalid
  `0-${T}-${P}-01`,                        // 1-digit version
  `000-${T}-${P}-01`,
  `00-${T.toUpperCase()}-${P}-01`,          // uppercase hex
  `00-${T}-${P.toUpperCase()}-01`,
  `00-${T}-${P}-0A`,
  `0A-${T}-${P}-01`,
  `00-00000000000000000000000000000000-${P}-01`, // all-zero trace id
  `00-${T}-0000000000000000-01`,           // all-zero parent id
  `00_${T}-${P}-01`,                       // wrong separators
  `00-${T}_${P}-01`,
  `00-${T}-${P}_01`,
  `00-${T.slice(0, 31)}g-${P}-01`,         // non-hex
  `00-${T}-${P.slice(0, 15)}x-01`,
  `00-${T}-${P}-x1`,
  `00-${T.slice(1)}-${P}-01`,              // short trace id
  `00-${T}0-${P}-01`,                      // long trace id
  `00-${T}-${P.slice(1)}-01`,              // short parent id
  `00-${T}-${P}0-01`,                      // long parent id
  `00 ${T} ${P} 01`,
  `00-${T} -${P}-01`,                      // inner whitespace
  `cc-${T}-${P}-01.what-the-future-will-not-be-like`, // future version: char after flags must be "-"
  `cc-${T}-${P}-0`,
  "\u0000".repeat(55),
  "-".repeat(55),
  `00-${T}-${P}-01`.replace(/-/g, "+"),
  `00-${T}-${P}-\u00e9\u00e9`,
];

export const INVALID_TRACESTATES: string[] = [
  "foo",                                   // no '='
  "=bar",                                  // empty key
  "foo=",                                  // empty value
  "Foo=1",                                 // uppercase key
  "foo.bar=1",                             // '.' not allowed in keys
  "1foo=1",                                // simple key must start with lcalpha
  "foo=1,foo=2",                           // duplicate key
  "foo=bar=baz",                           // '=' in value
  "foo=\u0001",                            // control char
  "foo=\u00e9",                            // non-ASCII
  `${"a".repeat(257)}=1`,                  // key too long
  `foo=${"x".repeat(257)}`,                // value too long
  "@sys=1",                                // empty tenant
  "tenant@=1",                             // empty system id
  "tenant@Sys=1",                          // uppercase system id
  "tenant@1sys=1",                         // system id must start with lcalpha
  `tenant@${"s".repeat(15)}=1`,            // system id too long
  `${"t".repeat(242)}@sys=1`,              // tenant id too long
  "a@b@c=1",
  Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","), // 33 members
  "foo=1,bar",
  "foo =1",                                // space before '='
];
