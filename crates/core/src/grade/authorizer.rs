//! The deny-by-default authorizer of the grading connection. It allows reads of the
//! problem's own tables, an allowlist of deterministic built-in functions, recursive CTEs
//! and, for DML problems, writes to the problem's tables. Everything else is refused and the
//! first refusal is remembered, so the verdict can say in plain words what was refused.

use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use super::Refusal;
use crate::problem::Kind;

/// Deterministic built-in functions a candidate may call. Not here, on purpose:
/// `random`, `randomblob` (non-deterministic), `load_extension`, `fts3_tokenizer`,
/// `sqlite_offset`, `sqlite_version`, `sqlite_source_id`, `sqlite_compileoption_*`.
/// `date('now')` and friends are deterministic here: the connection's clock is fixed.
pub(super) const FUNCTIONS: &[&str] = &[
    // core scalar
    "abs",
    "changes",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "format",
    "glob",
    "hex",
    "if",
    "ifnull",
    "iif",
    "instr",
    "last_insert_rowid",
    "length",
    "like",
    "likelihood",
    "likely",
    "lower",
    "ltrim",
    "max",
    "min",
    "nullif",
    "octet_length",
    "printf",
    "quote",
    "replace",
    "round",
    "rtrim",
    "sign",
    "soundex",
    "substr",
    "substring",
    "total_changes",
    "trim",
    "typeof",
    "unhex",
    "unicode",
    "unistr",
    "unistr_quote",
    "unlikely",
    "upper",
    "zeroblob",
    // date and time
    "date",
    "time",
    "datetime",
    "julianday",
    "unixepoch",
    "strftime",
    "timediff",
    "current_date",
    "current_time",
    "current_timestamp",
    // aggregate
    "avg",
    "count",
    "group_concat",
    "string_agg",
    "sum",
    "total",
    // window
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    // math
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "ceiling",
    "cos",
    "cosh",
    "degrees",
    "exp",
    "floor",
    "ln",
    "log",
    "log10",
    "log2",
    "mod",
    "pi",
    "pow",
    "power",
    "radians",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
    // JSON (scalar and aggregate; the table-valued json_each/json_tree are virtual tables)
    "json",
    "jsonb",
    "json_array",
    "jsonb_array",
    "json_array_length",
    "json_error_position",
    "json_extract",
    "jsonb_extract",
    "json_insert",
    "jsonb_insert",
    "json_object",
    "jsonb_object",
    "json_patch",
    "jsonb_patch",
    "json_pretty",
    "json_quote",
    "json_remove",
    "jsonb_remove",
    "json_replace",
    "jsonb_replace",
    "json_set",
    "jsonb_set",
    "json_type",
    "json_valid",
    "json_group_array",
    "jsonb_group_array",
    "json_group_object",
    "jsonb_group_object",
    "->",
    "->>",
];

/// Whether `name` (any case) is an allowed function.
pub(crate) fn function_allowed(name: &str) -> bool {
    FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Builds the authorizer callback for a problem of `kind` over `tables` (any case), writing
/// the first refusal into `refusal`.
pub(crate) fn authorizer(
    kind: Kind,
    tables: Vec<String>,
    refusal: Arc<Mutex<Option<Refusal>>>,
) -> impl for<'r> FnMut(AuthContext<'r>) -> Authorization + Send + 'static {
    move |ctx: AuthContext<'_>| {
        let verdict = decide(kind, &tables, &ctx);
        match verdict {
            Ok(()) => Authorization::Allow,
            Err(why) => {
                let mut slot = refusal.lock().unwrap_or_else(|e| e.into_inner());
                slot.get_or_insert(why);
                Authorization::Deny
            }
        }
    }
}

fn decide(kind: Kind, tables: &[String], ctx: &AuthContext<'_>) -> Result<(), Refusal> {
    let own_table = |name: &str| -> Result<(), Refusal> {
        let in_main = ctx.database_name == Some("main");
        if in_main && tables.iter().any(|t| t.eq_ignore_ascii_case(name)) {
            Ok(())
        } else if is_schema_table(name) {
            Err(Refusal::SchemaTable {
                name: name.to_owned(),
            })
        } else {
            Err(Refusal::Table {
                name: name.to_owned(),
            })
        }
    };
    match ctx.action {
        AuthAction::Select | AuthAction::Recursive => Ok(()),
        // A read with no database is of a CTE's own rows (the recursive reference of a
        // recursive CTE): nothing stored, so nothing to protect.
        AuthAction::Read { .. } if ctx.database_name.is_none() => Ok(()),
        AuthAction::Read { table_name, .. } => own_table(table_name),
        AuthAction::Function { function_name } => {
            if function_allowed(function_name) {
                Ok(())
            } else {
                Err(Refusal::Function {
                    name: function_name.to_owned(),
                })
            }
        }
        AuthAction::Insert { table_name }
        | AuthAction::Delete { table_name }
        | AuthAction::Update { table_name, .. } => match kind {
            Kind::Dml => own_table(table_name).map_err(|e| match e {
                Refusal::Table { name } => Refusal::Write { table: name },
                other => other,
            }),
            Kind::Select => Err(Refusal::Write {
                table: table_name.to_owned(),
            }),
        },
        AuthAction::Pragma { pragma_name, .. } => Err(Refusal::Pragma {
            name: pragma_name.to_owned(),
        }),
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Err(Refusal::Attach),
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => Err(Refusal::Transaction),
        AuthAction::CreateVtable { .. } | AuthAction::DropVtable { .. } => {
            Err(Refusal::VirtualTable)
        }
        AuthAction::CreateIndex { .. }
        | AuthAction::CreateTable { .. }
        | AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. }
        | AuthAction::CreateTrigger { .. }
        | AuthAction::CreateView { .. }
        | AuthAction::DropIndex { .. }
        | AuthAction::DropTable { .. }
        | AuthAction::DropTempIndex { .. }
        | AuthAction::DropTempTable { .. }
        | AuthAction::DropTempTrigger { .. }
        | AuthAction::DropTempView { .. }
        | AuthAction::DropTrigger { .. }
        | AuthAction::DropView { .. }
        | AuthAction::AlterTable { .. }
        | AuthAction::Reindex { .. }
        | AuthAction::Analyze { .. } => Err(Refusal::SchemaChange),
        _ => Err(Refusal::Other {
            action: format!("{:?}", ctx.action),
        }),
    }
}

fn is_schema_table(name: &str) -> bool {
    name.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("sqlite_"))
}
