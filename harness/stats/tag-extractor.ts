/**
 * Envoy tag extraction from stat names (stats_config.stats_tags with `regex`).
 *
 * Emulates envoy source/common/stats/tag_extractor_impl.cc (TagExtractorStdRegexImpl::extractTag) and
 * source/common/stats/tag_producer_impl.cc (TagProducerImpl::produceTags):
 *  - every extractor runs its regex (std::regex_search, ECMAScript grammar — JS RegExp is the same
 *    dialect) against the *original* full stat name; the removed ranges are collected and cut out at the
 *    end (StringUtil::removeCharacters), so extractors do not see each other's removals;
 *  - the regex needs at least one capture group; group 1 is the text removed from the name; the tag
 *    value is group 2 when the regex has a second group (even if it matched empty), else group 1;
 *  - extractors whose regex starts with `^<token>\.` (TagExtractorImplBase::extractRegexPrefix) are
 *    only tried on names whose first dot-separated token is <token>, and they run after all
 *    extractors without such a prefix; this changes the order of tags (= label order) only;
 *  - when several extractors share a tag name, the first one that matches wins and later ones are
 *    skipped (TagProducerImpl's dup_set);
 *  - `fixed_value` tag specifiers are not modelled (StatsTag only has a regex).
 *
 * With `useAllDefaultTags` (Envoy's default), Envoy's built-in extractors from
 * envoy-default-tags.ts run too, added before the configured ones (TagProducerImpl::
 * addDefaultExtractors), with their own matching rules (RE2 with substring and negative match,
 * token patterns). They only match Envoy's native names (`cluster.<name>.…`, `http.<prefix>.…`,
 * `listener.<address>.…`, `…_rq_<code>`), never the filter's `wasmcustom.` names.
 */
import type { StatsTag } from "../config/proxy-config.js";
import { ENVOY_DEFAULT_REGEX_TAGS, ENVOY_DEFAULT_TOKEN_TAGS, type RegexDescriptor, type TokenDescriptor } from "./envoy-default-tags.js";

export interface Tag {
  readonly name: string;
  readonly value: string;
}

export interface ExtractedName {
  /** The name with every removed capture cut out (Envoy's tagExtractedName). */
  readonly tagExtractedName: string;
  readonly tags: readonly Tag[];
}

function isAlnumOrUnderscore(c: string): boolean {
  return /[A-Za-z0-9_]/.test(c);
}

/** TagExtractorImplBase::extractRegexPrefix. */
export function extractRegexPrefix(regex: string): string {
  if (!regex.startsWith("^")) return "";
  for (let i = 1; i < regex.length; i++) {
    if (!isAlnumOrUnderscore(regex[i])) {
      if (i > 1) {
        const lastChar = i === regex.length - 1;
        const rest = regex.slice(i);
        const startsWithDot = rest.startsWith("\\.") || rest.startsWith("(?=\\.)");
        if ((!lastChar && startsWithDot) || (lastChar && regex[i] === "$")) return regex.slice(1, i);
      }
      break;
    }
  }
  return "";
}

/** One extractor, whatever its kind (TagExtractorStdRegexImpl, TagExtractorRe2Impl, TagExtractorTokensImpl). */
interface CompiledExtractor {
  readonly name: string;
  /** First token the name must start with (Envoy prefixToken), or "" for none. */
  readonly prefix: string;
  /** Adds the tag and the removed range when it matches; returns whether it did. */
  extract(name: string, tokens: () => string[], tags: Tag[], ranges: Array<[number, number]>): boolean;
}

/** Configured stats_tags: std::regex_search; value = group 2 when the regex has one (even empty), else group 1. */
function stdRegexExtractor(name: string, source: string): CompiledExtractor {
  let regex: RegExp;
  try {
    regex = new RegExp(source, "d"); // 'd' → match.indices for the removal range
  } catch (e) {
    throw new Error(`stats_tags: invalid regex for tag '${name}': ${(e as Error).message}`);
  }
  return {
    name,
    prefix: extractRegexPrefix(source),
    extract(stat, _tokens, tags, ranges) {
      const m = regex.exec(stat);
      if (m === null || m.length <= 1) return false;
      const value = m.length > 2 ? (m[2] ?? "") : (m[1] ?? "");
      tags.push({ name, value });
      const idx = m.indices?.[1];
      if (idx) ranges.push([idx[0], idx[1]]);
      return true;
    },
  };
}

/**
 * Built-in RE2 descriptors: skipped unless the name contains `substr`; RE2::PartialMatch with two
 * captures, and the first must be non-empty; an empty second capture means "use the first"; a
 * value equal to the negative match is not extracted.
 */
function re2Extractor(d: RegexDescriptor): CompiledExtractor {
  const regex = new RegExp(d.regex, "d");
  return {
    name: d.name,
    prefix: extractRegexPrefix(d.regex),
    extract(stat, _tokens, tags, ranges) {
      if (d.substr !== "" && !stat.includes(d.substr)) return false;
      const m = regex.exec(stat);
      if (m === null || !m[1]) return false;
      const value = m[2] ? m[2] : m[1];
      if (d.negativeMatch !== "" && value === d.negativeMatch) return false;
      tags.push({ name: d.name, value });
      const idx = m.indices![1]!;
      ranges.push([idx[0], idx[1]]);
      return true;
    },
  };
}

/**
 * Built-in token patterns (TagExtractorTokensImpl): `$` is the value, `*` one token, `**` any
 * number of tokens. The value token is removed with the dot after it, or the dot before it when it
 * is the last token.
 */
function tokenExtractor(d: TokenDescriptor): CompiledExtractor {
  const pattern = d.pattern.split(".");
  const matchIndex = pattern.indexOf("$");
  const first = pattern[0];
  const search = (input: string[], inIdx: number, patIdx: number, charIdx: number, out: { start: number; index: number }): boolean => {
    for (; inIdx < input.length && patIdx < pattern.length; inIdx++, patIdx++) {
      if (patIdx === matchIndex) {
        out.start = charIdx;
        out.index = inIdx;
        // Envoy does not advance the character index here; only the value's start is used.
      } else {
        const expected = pattern[patIdx];
        if (expected === "**") {
          if (patIdx === pattern.length - 1) {
            patIdx = pattern.length;
            inIdx = input.length;
            break;
          }
          patIdx++;
          for (; inIdx < input.length; inIdx++) {
            if (search(input, inIdx, patIdx, charIdx, out)) return true;
            charIdx += input[inIdx].length + 1;
          }
          return false;
        }
        const token = input[inIdx];
        if (expected !== "*" && expected !== token) return false;
        charIdx += token.length + 1;
      }
    }
    return patIdx === pattern.length && inIdx === input.length;
  };
  return {
    name: d.name,
    prefix: first !== "$" && first !== "*" && first !== "**" ? first : "",
    extract(_stat, tokens, tags, ranges) {
      const input = tokens();
      const out = { start: 0, index: input.length };
      if (!search(input, 0, 0, 0, out)) return false;
      const value = input[out.index];
      let start = out.start;
      let end = start + value.length;
      if (out.index < input.length - 1) end++;
      else if (start > 0) start--;
      tags.push({ name: d.name, value });
      ranges.push([start, end]);
      return true;
    },
  };
}

export interface TagExtractorOptions {
  /**
   * stats_config.use_all_default_tags: add Envoy's built-in extractors (envoy-default-tags.ts)
   * before the configured ones. Envoy's default is true; StatsStore passes the config's value.
   */
  useAllDefaultTags?: boolean;
}

export class TagExtractor {
  private readonly withoutPrefix: CompiledExtractor[] = [];
  private readonly byPrefix = new Map<string, CompiledExtractor[]>();
  private readonly duplicateNames = new Set<string>();
  private readonly names = new Set<string>();

  constructor(tags: readonly StatsTag[], opts: TagExtractorOptions = {}) {
    if (opts.useAllDefaultTags) {
      // TagProducerImpl::addDefaultExtractors: every RE2 descriptor, then every token descriptor.
      for (const d of ENVOY_DEFAULT_REGEX_TAGS) this.add(re2Extractor(d));
      for (const d of ENVOY_DEFAULT_TOKEN_TAGS) this.add(tokenExtractor(d));
    }
    for (const t of tags) {
      if (!t.tagName) throw new Error("stats_tags: tag_name cannot be empty");
      if (!t.regex) {
        // An empty regex names built-in extractors (TagProducerImpl::addExtractorsMatching).
        const builtIn = [
          ...ENVOY_DEFAULT_REGEX_TAGS.filter((d) => d.name === t.tagName).map(re2Extractor),
          ...ENVOY_DEFAULT_TOKEN_TAGS.filter((d) => d.name === t.tagName).map(tokenExtractor),
        ];
        if (builtIn.length === 0) throw new Error(`stats_tags: no regex specified for tag specifier and no default regex for name '${t.tagName}'`);
        for (const ex of builtIn) this.add(ex);
        continue;
      }
      this.add(stdRegexExtractor(t.tagName, t.regex));
    }
  }

  private add(ex: CompiledExtractor): void {
    if (this.names.has(ex.name)) this.duplicateNames.add(ex.name);
    this.names.add(ex.name);
    if (ex.prefix === "") this.withoutPrefix.push(ex);
    else {
      const list = this.byPrefix.get(ex.prefix) ?? [];
      list.push(ex);
      this.byPrefix.set(ex.prefix, list);
    }
  }

  extract(name: string): ExtractedName {
    const tags: Tag[] = [];
    const ranges: Array<[number, number]> = [];
    const matchedDupNames = new Set<string>();
    let split: string[] | undefined;
    const tokens = () => (split ??= name.split("."));
    const run = (ex: CompiledExtractor) => {
      const dup = this.duplicateNames.has(ex.name);
      if (dup && matchedDupNames.has(ex.name)) return;
      if (ex.extract(name, tokens, tags, ranges) && dup) matchedDupNames.add(ex.name);
    };
    for (const ex of this.withoutPrefix) run(ex);
    const dot = name.indexOf(".");
    if (dot >= 0) {
      const list = this.byPrefix.get(name.slice(0, dot));
      if (list) for (const ex of list) run(ex);
    }
    return { tagExtractedName: removeRanges(name, ranges), tags };
  }
}

/** StringUtil::removeCharacters with an IntervalSet (overlapping ranges are unioned). */
function removeRanges(s: string, ranges: Array<[number, number]>): string {
  if (ranges.length === 0) return s;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let pos = 0;
  for (const [start, end] of ranges) {
    if (start > pos) out += s.slice(pos, start);
    if (end > pos) pos = end;
  }
  return out + s.slice(pos);
}
