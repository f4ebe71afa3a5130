//! A reference table as one input file gave it, with the line of each
//! row, so that every error can name where it comes from.

use datafusion::arrow::array::RecordBatch;

use crate::storage::StoredTable;

/// A reference table as read from one input file.
pub(crate) struct InputTable {
    /// The table.
    pub(crate) table: StoredTable,
    /// The input file's name.
    pub(crate) file: String,
    /// The accepted rows.
    pub(crate) batch: RecordBatch,
    /// The line of each row (`None` when the rows did not come from a file).
    pub(crate) lines: Option<Vec<u64>>,
}

impl InputTable {
    /// A copy of the table (its rows share the input's buffers).
    pub(crate) fn clone_rows(&self) -> InputTable {
        InputTable {
            table: self.table,
            file: self.file.clone(),
            batch: self.batch.clone(),
            lines: self.lines.clone(),
        }
    }

    /// The input line of row `row` (0 when the rows came from no file).
    pub(crate) fn line(&self, row: usize) -> u64 {
        self.lines
            .as_ref()
            .and_then(|l| l.get(row).copied())
            .unwrap_or(0)
    }
}
