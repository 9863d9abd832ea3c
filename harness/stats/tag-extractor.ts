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
 * Envoy's built-in default extractors (use_all_default_tags, config/well_known_names.cc: cluster_name,
 * http_conn_manager_prefix, response_code, …) are *not* applied: they only match native Envoy stat
 * names (`cluster.<name>.…`, `http.<prefix>.…`, `…_rq_<code>`), never the `wasmcustom.` names this
 * store holds. Apply them here if native-looking names ever need labels.
 */
import type { StatsTag } from "../config/proxy-config.js";

export interface Tag {
  readonly name: string;
  readonly value: string;
}

export interface ExtractedName {
  /** The name with every removed capture cut out (Envoy's tagExtractedName). */
  readonly tagExtractedName: string;
  readonly tags: readonly Tag[];
}

interface CompiledExtractor {
  readonly name: string;
  readonly regex: RegExp;
  /** First token the name must start with (Envoy prefix optimisation), or "" for none. */
  readonly prefix: string;
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

export class TagExtractor {
  private readonly withoutPrefix: CompiledExtractor[] = [];
  private readonly byPrefix = new Map<string, CompiledExtractor[]>();
  private readonly duplicateNames = new Set<string>();

  constructor(tags: readonly StatsTag[]) {
    const seen = new Set<string>();
    for (const t of tags) {
      if (!t.tagName) throw new Error("stats_tags: tag_name cannot be empty");
      if (!t.regex) throw new Error(`stats_tags: no regex specified for tag specifier '${t.tagName}'`);
      let regex: RegExp;
      try {
        regex = new RegExp(t.regex, "d"); // 'd' → match.indices for the removal range
      } catch (e) {
        throw new Error(`stats_tags: invalid regex for tag '${t.tagName}': ${(e as Error).message}`);
      }
      if (seen.has(t.tagName)) this.duplicateNames.add(t.tagName);
      seen.add(t.tagName);
      const ex: CompiledExtractor = { name: t.tagName, regex, prefix: extractRegexPrefix(t.regex) };
      if (ex.prefix === "") this.withoutPrefix.push(ex);
      else {
        const list = this.byPrefix.get(ex.prefix) ?? [];
        list.push(ex);
        this.byPrefix.set(ex.prefix, list);
      }
    }
  }

  extract(name: string): ExtractedName {
    const tags: Tag[] = [];
    const ranges: Array<[number, number]> = [];
    const matchedDupNames = new Set<string>();
    const run = (ex: CompiledExtractor) => {
      if (this.duplicateNames.has(ex.name) && matchedDupNames.has(ex.name)) return;
      ex.regex.lastIndex = 0;
      const m = ex.regex.exec(name);
      if (m === null || m.length <= 1) return;
      const removeIdx = m.indices?.[1];
      const value = m.length > 2 ? (m[2] ?? "") : (m[1] ?? "");
      tags.push({ name: ex.name, value });
      if (removeIdx) ranges.push([removeIdx[0], removeIdx[1]]);
      if (this.duplicateNames.has(ex.name)) matchedDupNames.add(ex.name);
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
