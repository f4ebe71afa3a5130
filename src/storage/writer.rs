//! Writing Parquet files into a dataset through the object store.
//!
//! Files are written for a version that is not yet committed; they become
//! visible only when a manifest naming them is committed. Every file holds
//! one table (and, for partitioned tables, one academic year × period), its
//! rows in the table's sort order, dictionary-encoded, with page-level
//! statistics and a page index so that filters on the sort columns skip
//! pages, not just row groups.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::SortingColumn;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use object_store::buffered::BufWriter;
use object_store::{ObjectStore, ObjectStoreExt};

use super::{DataFile, DataLocation, StorageError, StoredTable};

/// Rows per row group: large enough for good compression and few footers,
/// small enough that a writer buffers well under 100 MB.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// Rows per data page, so the page index prunes within a row group (a
/// school's marks span a few thousand rows).
pub const PAGE_ROWS: usize = 20_000;

/// Rows per file before a new file is started.
pub const FILE_ROWS: u64 = 16 << 20;

/// Writer properties for files of `table`: zstd(3), dictionary encoding,
/// page statistics (hence column and offset indexes), the sort order noted.
pub fn writer_properties(table: StoredTable) -> Result<WriterProperties, StorageError> {
    let schema = table.schema();
    let sorting = table
        .sort_columns()
        .iter()
        .map(|c| {
            let idx = schema.index_of(c).map_err(|e| StorageError::Schema {
                table: table.name().to_string(),
                message: e.to_string(),
            })?;
            Ok(SortingColumn {
                column_idx: i32::try_from(idx).unwrap_or(i32::MAX),
                descending: false,
                nulls_first: false,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    let mut builder = base_properties(3)?.set_sorting_columns(Some(sorting));
    if schema.index_of(MOMENT_COLUMN).is_ok() {
        builder = builder.set_column_dictionary_page_size_limit(
            ColumnPath::from(MOMENT_COLUMN),
            MOMENT_DICTIONARY_BYTES,
        );
    }
    Ok(builder.build())
}

/// The column of the marks whose values are nearly all distinct: the moment
/// a mark was set, to the microsecond.
const MOMENT_COLUMN: &str = "recorded_at";

/// Dictionary page size for [`MOMENT_COLUMN`]. A row group's marks are set
/// at ~250k distinct moments (a working week to the second): with the
/// default 1 MB page the dictionary fills at 128k and the rest of the row
/// group falls back to plain 8-byte values (~5 bytes a mark after zstd);
/// with room for every moment, each mark stores an 18-bit index (measured
/// on the national data: 5.0 → 4.2 bytes a mark).
const MOMENT_DICTIONARY_BYTES: usize = 4 << 20;

/// Writer properties for the staging files of an ingest: written once and
/// read once, so fast compression and no sort order.
pub fn staging_properties() -> Result<WriterProperties, StorageError> {
    Ok(base_properties(1)?
        .set_max_row_group_row_count(Some(32 * 1024))
        .build())
}

fn base_properties(
    zstd: i32,
) -> Result<datafusion::parquet::file::properties::WriterPropertiesBuilder, StorageError> {
    let level = ZstdLevel::try_new(zstd).map_err(|e| StorageError::Schema {
        table: String::new(),
        message: e.to_string(),
    })?;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS))
}

/// The directory of a table's files written for `version`, below the root.
pub fn table_dir(table: StoredTable, version: u64, partition: Option<(i32, &str)>) -> String {
    let base = format!("tables/{}/v{version:06}", table.name());
    match partition {
        Some((year, period)) => format!("{base}/academic_year={year}/period={period}"),
        None => base,
    }
}

/// Writes a stream of batches as one or more Parquet files in a directory
/// (`part-00000.parquet`, `part-00001.parquet`, ...), rolling to a new file
/// every [`FILE_ROWS`] rows.
pub struct ParquetWriter {
    loc: DataLocation,
    dir: String,
    schema: SchemaRef,
    props: WriterProperties,
    partition: Option<(i32, String)>,
    max_file_rows: u64,
    open: Option<OpenFile>,
    files: Vec<DataFile>,
}

struct OpenFile {
    rel: String,
    writer: AsyncArrowWriter<BufWriter>,
    rows: u64,
}

impl ParquetWriter {
    /// A writer for the files of a stored table in a version (and partition).
    pub fn for_table(
        loc: &DataLocation,
        table: StoredTable,
        version: u64,
        partition: Option<(i32, &str)>,
    ) -> Result<ParquetWriter, StorageError> {
        Ok(ParquetWriter::new(
            loc,
            table_dir(table, version, partition),
            table.schema(),
            writer_properties(table)?,
            partition,
        ))
    }

    /// A writer of files with `schema` in directory `dir` (below the root).
    pub fn new(
        loc: &DataLocation,
        dir: String,
        schema: SchemaRef,
        props: WriterProperties,
        partition: Option<(i32, &str)>,
    ) -> ParquetWriter {
        ParquetWriter {
            loc: loc.clone(),
            dir,
            schema,
            props,
            partition: partition.map(|(y, p)| (y, p.to_string())),
            max_file_rows: FILE_ROWS,
            open: None,
            files: Vec::new(),
        }
    }

    /// Sets how many rows a file holds before the next one is started.
    pub fn with_max_file_rows(mut self, rows: u64) -> ParquetWriter {
        self.max_file_rows = rows.max(1);
        self
    }

    /// Appends a batch (its columns must match the writer's schema).
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<(), StorageError> {
        // Re-label the columns with the declared schema: a batch from a query
        // may differ in nullability flags or metadata only.
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), batch.columns().to_vec())
            .map_err(|e| StorageError::Schema {
                table: self.dir.clone(),
                message: e.to_string(),
            })?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let room = self.room()?;
            let take = room.min(batch.num_rows() - offset);
            let slice = batch.slice(offset, take);
            if let Some(open) = self.open.as_mut() {
                open.writer
                    .write(&slice)
                    .await
                    .map_err(StorageError::parquet(&open.rel))?;
                open.rows += take as u64;
            }
            offset += take;
            if self
                .open
                .as_ref()
                .is_some_and(|o| o.rows >= self.max_file_rows)
            {
                self.close_open().await?;
            }
        }
        Ok(())
    }

    /// Rows the open file can still take, opening one if none is open.
    fn room(&mut self) -> Result<usize, StorageError> {
        if self.open.is_none() {
            let rel = format!("{}/part-{:05}.parquet", self.dir, self.files.len());
            let object = BufWriter::new(
                Arc::clone(self.loc.store()) as Arc<dyn ObjectStore>,
                self.loc.path(&rel),
            );
            let writer = AsyncArrowWriter::try_new(
                object,
                Arc::clone(&self.schema),
                Some(self.props.clone()),
            )
            .map_err(StorageError::parquet(&rel))?;
            self.open = Some(OpenFile {
                rel,
                writer,
                rows: 0,
            });
        }
        let used = self.open.as_ref().map_or(0, |o| o.rows);
        Ok(usize::try_from(self.max_file_rows.saturating_sub(used)).unwrap_or(usize::MAX))
    }

    async fn close_open(&mut self) -> Result<(), StorageError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        open.writer
            .close()
            .await
            .map_err(StorageError::parquet(&open.rel))?;
        let meta = self
            .loc
            .store()
            .head(&self.loc.path(&open.rel))
            .await
            .map_err(StorageError::store(&open.rel))?;
        self.files.push(DataFile {
            path: open.rel,
            rows: open.rows,
            bytes: meta.size,
            academic_year: self.partition.as_ref().map(|p| p.0),
            period: self.partition.as_ref().map(|p| p.1.clone()),
        });
        Ok(())
    }

    /// Completes the open file and returns every file written. A writer that
    /// was given no rows writes no file.
    pub async fn finish(mut self) -> Result<Vec<DataFile>, StorageError> {
        self.close_open().await?;
        Ok(self.files)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::parquet::arrow::arrow_reader::{
        ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    };
    use datafusion::parquet::file::metadata::PageIndexPolicy;

    fn regions(ids: &[i64]) -> RecordBatch {
        let names: Vec<String> = ids.iter().map(|i| format!("r{i}")).collect();
        RecordBatch::try_new(
            StoredTable::Regions.schema(),
            vec![
                Arc::new(Int64Array::from(ids.to_vec())),
                Arc::new(StringArray::from(names.clone())),
                Arc::new(StringArray::from(names)),
            ],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn rolls_files_and_sets_properties() {
        let dir = tempfile::tempdir().unwrap();
        let loc = DataLocation::local(dir.path()).unwrap();
        let mut w = ParquetWriter::for_table(&loc, StoredTable::Regions, 3, None)
            .unwrap()
            .with_max_file_rows(4);
        w.write(&regions(&[1, 2, 3])).await.unwrap();
        w.write(&regions(&[4, 5, 6, 7, 8, 9])).await.unwrap();
        let files = w.finish().await.unwrap();
        let rows: Vec<u64> = files.iter().map(|f| f.rows).collect();
        assert_eq!(rows, [4, 4, 1]);
        assert_eq!(files[2].path, "tables/regions/v000003/part-00002.parquet");
        let on_disk = dir.path().join(&files[0].path);
        assert_eq!(std::fs::metadata(&on_disk).unwrap().len(), files[0].bytes);
        let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(
            std::fs::File::open(on_disk).unwrap(),
            ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required),
        )
        .unwrap();
        let meta = reader.metadata();
        assert!(meta.column_index().is_some(), "page index written");
        let rg = meta.row_group(0);
        assert_eq!(rg.sorting_columns().map(|s| s.len()), Some(1));
        assert!(matches!(rg.column(0).compression(), Compression::ZSTD(_)));
    }

    #[test]
    fn partition_directories() {
        assert_eq!(
            table_dir(StoredTable::Marks, 7, Some((2024, "Q1"))),
            "tables/marks/v000007/academic_year=2024/period=Q1"
        );
    }
}
