//! Rows written as one JSON parameter: `INSERT … SELECT … FROM <the rows as JSON>` and the
//! matching `UPDATE … FROM`, one statement for any number of rows on both backends.

use super::Backend;
use serde::Serialize;
use sqlx::AnyConnection;

pub(super) fn encode<R: Serialize>(rows: &[R]) -> Result<String, sqlx::Error> {
    serde_json::to_string(rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// `INSERT INTO table (columns) SELECT … FROM <the rows as JSON>`.
pub(super) fn insert_sql(backend: Backend, table: &str, columns: &[(&str, &str)]) -> String {
    let names = columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {table} ({names}) {}",
        backend.json_rows(1, columns)
    )
}

/// `UPDATE table SET … FROM <the rows as JSON> WHERE table.key = r.key`, the key being the
/// first of `columns`.
pub(super) fn update_sql(backend: Backend, table: &str, columns: &[(&str, &str)]) -> String {
    let key = columns[0].0;
    let set = columns[1..]
        .iter()
        .map(|(c, _)| format!("{c} = r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "UPDATE {table} SET {set} FROM ({}) AS r WHERE {table}.{key} = r.{key}",
        backend.json_rows(1, columns)
    )
}

/// `INSERT INTO table (columns) SELECT … FROM <the rows as JSON>`: one statement.
pub(super) async fn insert<R: Serialize>(
    tx: &mut AnyConnection,
    backend: Backend,
    table: &str,
    columns: &[(&str, &str)],
    rows: &[R],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(backend, table, columns)))
        .bind(encode(rows)?)
        .bind(rows.len() as i64)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}
