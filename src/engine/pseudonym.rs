//! The pseudonyms researchers see in place of student ids (SPEC §8).
//!
//! A keyed SipHash of the id under a key drawn at random when the process
//! starts: the same student has the same pseudonym in every table and
//! period (so researchers can follow students and join tables), the
//! pseudonym cannot be turned back into the id, and ids cannot be guessed
//! by hashing candidates because the function is never callable from SQL.
//!
//! The key is two explicit SipHash-1-3 keys rather than an opaque
//! `RandomState`, so that a plan sent to a cluster carries them (see
//! `cluster::codec`): every executor then computes the front end's
//! pseudonyms, not pseudonyms of its own.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, LazyLock};

use siphasher::sip::SipHasher13;

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

/// The function's SQL name.
pub(crate) const NAME: &str = "sapa_pseudonym";

/// `sapa_pseudonym(student_id)`: a non-negative 63-bit pseudonym.
#[derive(Debug)]
struct Pseudonym {
    signature: Signature,
    key: (u64, u64),
}

impl PartialEq for Pseudonym {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for Pseudonym {}
impl std::hash::Hash for Pseudonym {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        NAME.hash(state);
    }
}

impl Pseudonym {
    fn new() -> Pseudonym {
        // Two hashes under std's per-process random SipHash keys: random
        // keys without a second source of randomness or a failure path.
        let key = (
            RandomState::new().hash_one(0x5a9a_u64),
            RandomState::new().hash_one(0xa5a5_u64),
        );
        Pseudonym::with_key(key)
    }

    fn with_key(key: (u64, u64)) -> Pseudonym {
        Pseudonym {
            signature: Signature::exact(vec![DataType::Int64], Volatility::Immutable),
            key,
        }
    }

    fn of(&self, id: i64) -> i64 {
        let mut hasher = SipHasher13::new_with_keys(self.key.0, self.key.1);
        hasher.write_i64(id);
        // The top bit dropped: pseudonyms stay positive, like ids.
        (hasher.finish() >> 1) as i64
    }
}

/// The key of a pseudonym function, as 16 bytes for a plan sent to a
/// cluster; `None` if `udf` is not the pseudonym function.
pub(crate) fn key_of(udf: &ScalarUDF) -> Option<[u8; 16]> {
    let pseudonym = udf.inner().downcast_ref::<Pseudonym>()?;
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&pseudonym.key.0.to_le_bytes());
    bytes[8..].copy_from_slice(&pseudonym.key.1.to_le_bytes());
    Some(bytes)
}

/// The pseudonym function under the key [`key_of`] wrote; `None` if
/// `bytes` is not 16 bytes long.
pub(crate) fn with_key(bytes: &[u8]) -> Option<Arc<ScalarUDF>> {
    let k0: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let k1: [u8; 8] = bytes.get(8..16)?.try_into().ok()?;
    if bytes.len() != 16 {
        return None;
    }
    Some(Arc::new(ScalarUDF::new_from_impl(Pseudonym::with_key((
        u64::from_le_bytes(k0),
        u64::from_le_bytes(k1),
    )))))
}

impl ScalarUDFImpl for Pseudonym {
    fn name(&self) -> &str {
        NAME
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

    #[test]
    fn a_key_sent_to_another_process_gives_the_same_pseudonyms() {
        let here = &*PSEUDONYM_UDF;
        let key = key_of(here).unwrap();
        let there = with_key(&key).unwrap();
        let (a, b) = (
            here.inner().downcast_ref::<Pseudonym>().unwrap(),
            there.inner().downcast_ref::<Pseudonym>().unwrap(),
        );
        assert_eq!(a.of(42), b.of(42));
        assert!(with_key(&key[..15]).is_none());
        assert!(key_of(&ScalarUDF::new_from_impl(Pseudonym::new())).is_some());
    }
}
