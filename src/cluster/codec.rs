//! How Sapa's plans cross a process boundary.
//!
//! DataFusion's protobuf format holds every operator and expression Sapa's
//! plans use (Parquet scans, filters, aggregates, joins, sorts, UDF calls by
//! name); Ballista's codec adds its shuffle operators. One thing a name
//! does not carry is the pseudonym function's key: two processes would
//! draw two keys and give one student two pseudonyms. This codec sends the
//! key with the call, so executors compute the front end's pseudonyms.

use std::sync::Arc;

use ballista_core::serde::BallistaPhysicalExtensionCodec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::engine::pseudonym;

/// Ballista's physical codec, plus the pseudonym function's key.
#[derive(Debug, Default)]
pub struct SapaCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for SapaCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.ballista.try_decode(buf, inputs, ctx, converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.ballista.try_encode(node, buf, converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        if name == pseudonym::NAME {
            return pseudonym::with_key(buf).ok_or_else(|| {
                DataFusionError::Internal(format!("{name}: a key of {} bytes, not 16", buf.len()))
            });
        }
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        match pseudonym::key_of(node) {
            Some(key) => {
                buf.extend_from_slice(&key);
                Ok(())
            }
            None => self.ballista.try_encode_udf(node, buf),
        }
    }
}
