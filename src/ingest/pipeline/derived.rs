//! The tables ingest derives from the new statuses and history, in the
//! same commit: `school_counts`, `earlier_statuses` and the stored rows of
//! `mark_audit`.

use std::collections::BTreeSet;

use futures::StreamExt;

use super::{Transaction, replace_partition};
use crate::engine::status::derived_partition;
use crate::engine::{Engine, EngineOptions, audit, earlier_statuses};
use crate::ingest::error::IngestError;
use crate::storage::writer::ParquetWriter;
use crate::storage::{Manifest, StoredTable};

impl Transaction {
    /// Writes the partitions of the tables derived from the new statuses
    /// and history (`school_counts`, `earlier_statuses`) whose statuses
    /// were just rewritten — every partition, when the stored version
    /// predates the table.
    pub(super) async fn materialise_derived(
        &self,
        m: &mut Manifest,
        targets: &BTreeSet<(i32, &'static str)>,
    ) -> Result<(), IngestError> {
        // In this order: the changes are made of the earlier statuses.
        for table in [
            StoredTable::SchoolCounts,
            StoredTable::EarlierStatuses,
            StoredTable::SchoolCountChanges,
        ] {
            let stored = self
                .prev
                .as_ref()
                .and_then(|p| p.tables.get(table.name()).cloned());
            let parts: Vec<(i32, String)> = match &stored {
                Some(_) => targets.iter().map(|(y, p)| (*y, p.to_string())).collect(),
                None => m.partitions(StoredTable::StudentStatus),
            };
            let mut files = stored.unwrap_or_default();
            m.tables.insert(table.name().into(), files.clone());
            // One partition: `earlier_statuses` reads the history in its
            // stored order.
            let options = EngineOptions {
                target_partitions: Some(1),
                ..self.opts.engine.clone()
            };
            let ctx = Engine::at(&self.loc, m.clone())
                .with_options(options)
                .session_context()?;
            for (year, period) in parts {
                let mut w = ParquetWriter::for_table(
                    &self.loc,
                    table,
                    self.version,
                    Some((year, &period)),
                )?;
                if table == StoredTable::EarlierStatuses {
                    earlier_statuses::write_partition(&ctx, year, &period, &mut w).await?;
                } else {
                    let mut stream = derived_partition(&ctx, table, year, &period).await?;
                    while let Some(batch) = stream.next().await {
                        w.write(&batch?).await?;
                    }
                }
                replace_partition(&mut files, year, &period, w.finish().await?);
            }
            m.tables.insert(table.name().into(), files);
        }
        Ok(())
    }

    /// Writes the `mark_audit` rows and the `recorded_marks` counts of every
    /// `marks_history` partition this ingest rewrote (`touched`) or whose
    /// end date the calendar moved — every partition, when the stored
    /// version predates either table.
    pub(super) async fn materialise_audit(
        &self,
        m: &mut Manifest,
        touched: &BTreeSet<(i32, &'static str)>,
    ) -> Result<(), IngestError> {
        let tables = [StoredTable::MarkAudit, StoredTable::RecordedMarks];
        // One partition: the history is read in its stored order.
        let options = EngineOptions {
            target_partitions: Some(1),
            ..self.opts.engine.clone()
        };
        let ctx = Engine::at(&self.loc, m.clone())
            .with_options(options.clone())
            .session_context()?;
        let ends = audit::end_dates(&ctx).await?;
        let end_of = |ends: &[((i32, String), chrono::NaiveDate)], year: i32, period: &str| {
            ends.iter()
                .find(|((y, p), _)| *y == year && p == period)
                .map(|(_, end)| *end)
        };
        let stored = tables.map(|t| {
            self.prev
                .as_ref()
                .and_then(|p| p.tables.get(t.name()).cloned())
        });
        let mut parts = m.partitions(StoredTable::MarksHistory);
        if let (Some(_), Some(_), Some(prev)) = (&stored[0], &stored[1], &self.prev) {
            let before = Engine::at(&self.loc, prev.clone())
                .with_options(options)
                .session_context()?;
            let before = audit::end_dates(&before).await?;
            parts.retain(|(year, period)| {
                touched.contains(&(*year, period.as_str()))
                    || end_of(&ends, *year, period) != end_of(&before, *year, period)
            });
        }
        let [mut audit_files, mut recorded_files] = stored.map(Option::unwrap_or_default);
        for (year, period) in parts {
            let partition = Some((year, period.as_str()));
            let mut rows = ParquetWriter::for_table(&self.loc, tables[0], self.version, partition)?;
            let mut recorded =
                ParquetWriter::for_table(&self.loc, tables[1], self.version, partition)?;
            let end = end_of(&ends, year, &period);
            audit::write_partition(&ctx, year, &period, end, &mut rows, &mut recorded).await?;
            replace_partition(&mut audit_files, year, &period, rows.finish().await?);
            replace_partition(&mut recorded_files, year, &period, recorded.finish().await?);
        }
        m.tables.insert(tables[0].name().into(), audit_files);
        m.tables.insert(tables[1].name().into(), recorded_files);
        Ok(())
    }
}
