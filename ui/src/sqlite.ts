// What SQLite itself understands, for the editor's highlighting and completion: its own
// keyword list (https://sqlite.org/lang_keywords.html), the built-in functions the grader
// allows (crates/core/src/grade/authorizer.rs, FUNCTIONS) and its type names. Standard-SQL
// words SQLite does not know (SIGNAL, CURRENT_TRANSFORM_GROUP_FOR_TYPE …) are not here.

/** Every SQLite keyword: highlighted as keywords. */
export const KEYWORDS = [
  "abort", "action", "add", "after", "all", "alter", "always", "analyze", "and", "as", "asc",
  "attach", "autoincrement", "before", "begin", "between", "by", "cascade", "case", "cast",
  "check", "collate", "column", "commit", "conflict", "constraint", "create", "cross",
  "current", "current_date", "current_time", "current_timestamp", "database", "default",
  "deferrable", "deferred", "delete", "desc", "detach", "distinct", "do", "drop", "each",
  "else", "end", "escape", "except", "exclude", "exclusive", "exists", "explain", "fail",
  "filter", "first", "following", "for", "foreign", "from", "full", "generated", "glob",
  "group", "groups", "having", "if", "ignore", "immediate", "in", "index", "indexed",
  "initially", "inner", "insert", "instead", "intersect", "into", "is", "isnull", "join", "key",
  "last", "left", "like", "limit", "match", "materialized", "natural", "no", "not", "nothing",
  "notnull", "null", "nulls", "of", "offset", "on", "or", "order", "others", "outer", "over",
  "partition", "plan", "pragma", "preceding", "primary", "query", "raise", "range", "recursive",
  "references", "regexp", "reindex", "release", "rename", "replace", "restrict", "returning",
  "right", "rollback", "row", "rows", "savepoint", "select", "set", "table", "temp", "temporary",
  "then", "ties", "to", "transaction", "trigger", "unbounded", "union", "unique", "update",
  "using", "vacuum", "values", "view", "virtual", "when", "where", "window", "with", "without",
];

/**
 * Keywords never offered as completions: statements and clauses the exam refuses
 * (schema changes, transactions, PRAGMA, ATTACH …). They are still highlighted.
 */
const NOT_OFFERED = new Set([
  "abort", "action", "after", "alter", "always", "analyze", "attach", "autoincrement", "before",
  "begin", "cascade", "commit", "conflict", "constraint", "create", "database", "deferrable",
  "deferred", "detach", "drop", "each", "exclusive", "explain", "fail", "foreign", "generated",
  "ignore", "immediate", "index", "indexed", "initially", "instead", "key", "match", "plan",
  "pragma", "primary", "query", "raise", "references", "regexp", "reindex", "release", "rename",
  "restrict", "rollback", "savepoint", "temp", "temporary", "transaction", "trigger", "unique",
  "vacuum", "view", "virtual", "without",
]);

/** Keywords the completion list offers. */
export const OFFERED_KEYWORDS = KEYWORDS.filter((k) => !NOT_OFFERED.has(k));

/** Built-in functions a candidate may call (the grader's allowlist). */
export const FUNCTIONS = [
  // core scalar
  "abs", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "iif", "ifnull",
  "instr", "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif",
  "octet_length", "printf", "quote", "replace", "round", "rtrim", "sign", "soundex", "substr",
  "substring", "trim", "typeof", "unhex", "unicode", "unistr", "unlikely", "upper", "zeroblob",
  // date and time
  "date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff",
  // aggregate
  "avg", "count", "group_concat", "string_agg", "sum", "total",
  // window
  "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
  "first_value", "last_value", "nth_value",
  // math
  "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
  "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians",
  "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
  // JSON
  "json", "json_array", "json_array_length", "json_extract", "json_group_array",
  "json_group_object", "json_insert", "json_object", "json_patch", "json_quote", "json_remove",
  "json_replace", "json_set", "json_type", "json_valid",
];

/** Type names (column declarations, CAST … AS). */
export const TYPES = ["integer", "real", "text", "blob", "numeric", "int", "varchar", "boolean", "date", "datetime"];
