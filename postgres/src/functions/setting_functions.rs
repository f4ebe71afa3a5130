//! `current_setting(name [, missing_ok])` and `set_config(name, value,
//! is_local)` of one session, over its [`SessionSettings`].

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use sapa_sqlstate::SqlState;

use crate::settings::{SessionSettings, SettingError};

/// `current_setting(name [, missing_ok])` and `set_config(name, value,
/// is_local)` of one session.
#[derive(Debug)]
struct SettingFunction {
    settings: Arc<SessionSettings>,
    setter: bool,
    signature: Signature,
}

impl PartialEq for SettingFunction {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.settings, &other.settings) && self.setter == other.setter
    }
}

impl Eq for SettingFunction {}

impl std::hash::Hash for SettingFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.setter.hash(state);
    }
}

/// The session's `current_setting` and `set_config`.
pub fn udfs(settings: &Arc<SessionSettings>) -> [ScalarUDF; 2] {
    let text = DataType::Utf8;
    let current = Signature::one_of(
        vec![
            TypeSignature::Exact(vec![text.clone()]),
            TypeSignature::Exact(vec![text.clone(), DataType::Boolean]),
        ],
        Volatility::Volatile,
    );
    let set = Signature::exact(
        vec![text.clone(), text, DataType::Boolean],
        Volatility::Volatile,
    );
    [(false, current), (true, set)].map(|(setter, signature)| {
        ScalarUDF::new_from_impl(SettingFunction {
            settings: Arc::clone(settings),
            setter,
            signature,
        })
    })
}

fn strings(value: &ColumnarValue, rows: usize) -> Result<Vec<Option<String>>> {
    let array = cast(&value.to_array(rows)?, &DataType::Utf8)?;
    Ok(array
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}

fn external(err: SettingError) -> DataFusionError {
    err.into_datafusion()
}

impl ScalarUDFImpl for SettingFunction {
    fn name(&self) -> &str {
        if self.setter {
            "set_config"
        } else {
            "current_setting"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let flag = |i: usize| match args.args.get(i) {
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(b))) => Ok(b.unwrap_or(false)),
            Some(_) => exec_err!("{}: the flag must be a constant", self.name()),
            None => Ok(false),
        };
        let Some(names) = args.args.first() else {
            return exec_err!("{} takes a setting name", self.name());
        };
        let names = strings(names, rows)?;
        let mut out = StringBuilder::with_capacity(rows, rows * 8);
        if self.setter {
            let Some(values) = args.args.get(1) else {
                return exec_err!("set_config takes a name, a value and is_local");
            };
            let values = strings(values, rows)?;
            let is_local = flag(2)?;
            for (name, value) in names.iter().zip(values) {
                match name {
                    Some(name) => out.append_value(
                        self.settings
                            .set(name, value.as_deref().unwrap_or(""), is_local)
                            .map_err(external)?,
                    ),
                    None => return exec_err!("set_config: the setting name must not be null"),
                }
            }
        } else {
            let missing_ok = flag(1)?;
            for name in names {
                match name.map(|n| self.settings.get(&n)) {
                    Some(Ok(value)) => out.append_option(value),
                    Some(Err(SettingError::Unknown(_))) | None if missing_ok => out.append_null(),
                    Some(Err(err)) => return Err(external(err)),
                    None => out.append_null(),
                }
            }
        }
        let array: ArrayRef = Arc::new(out.finish());
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?));
        }
        Ok(ColumnarValue::Array(array))
    }
}
