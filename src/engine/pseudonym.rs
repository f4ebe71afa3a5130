//! The pseudonyms researchers see in place of student ids (SPEC §8).
//!
//! A keyed SipHash of the id under a key drawn at random when the process
//! starts: the same student has the same pseudonym in every table and
//! period (so researchers can follow students and join tables), the
//! pseudonym cannot be turned back into the id, and ids cannot be guessed
//! by hashing candidates because the function is never callable from SQL.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_int64_array;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The pseudonym function, keyed once per process.
pub(crate) static PSEUDONYM_UDF: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| Arc::new(ScalarUDF::new_from_impl(Pseudonym::new())));

/// `sapa_pseudonym(student_id)`: a non-negative 63-bit pseudonym.
#[derive(Debug)]
struct Pseudonym {
    signature: Signature,
    key: RandomState,
}

impl PartialEq for Pseudonym {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for Pseudonym {}
impl std::hash::Hash for Pseudonym {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "sapa_pseudonym".hash(state);
    }
}

impl Pseudonym {
    fn new() -> Pseudonym {
        Pseudonym {
            signature: Signature::exact(vec![DataType::Int64], Volatility::Immutable),
            key: RandomState::new(),
        }
    }

    fn of(&self, id: i64) -> i64 {
        // The top bit dropped: pseudonyms stay positive, like ids.
        (self.key.hash_one(id) >> 1) as i64
    }
}

impl ScalarUDFImpl for Pseudonym {
    fn name(&self) -> &str {
        "sapa_pseudonym"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let ids = as_int64_array(&arrays[0])?;
        let out: Int64Array = ids.iter().map(|id| id.map(|id| self.of(id))).collect();
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_distinct_and_not_the_ids() {
        let p = Pseudonym::new();
        let ids: Vec<i64> = (1..=100_000).collect();
        let pseudonyms: std::collections::HashSet<i64> = ids.iter().map(|&i| p.of(i)).collect();
        assert_eq!(pseudonyms.len(), ids.len(), "no two students share one");
        assert!(pseudonyms.iter().all(|&x| x >= 0));
        assert_eq!(p.of(42), p.of(42));
        let identity = ids.iter().filter(|&&i| p.of(i) == i).count();
        assert_eq!(identity, 0);
        // Another process (another key) gives other pseudonyms.
        assert_ne!(Pseudonym::new().of(42), p.of(42));
    }
}
