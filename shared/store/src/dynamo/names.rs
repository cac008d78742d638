//! The physical names of the tables, from the environment or a prefix.

use crate::port::Table;

/// The physical names of the four tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    /// `CATALOG_TABLE`
    pub catalog: String,
    /// `CARTS_TABLE`
    pub carts: String,
    /// `ORDERS_TABLE`
    pub orders: String,
    /// `IDEMPOTENCY_TABLE`
    pub idempotency: String,
}

/// A table-name variable is unset, empty or not Unicode.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {var} must name a DynamoDB table")]
pub struct MissingTableName {
    pub var: &'static str,
}

impl TableNames {
    /// Reads `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE` and `IDEMPOTENCY_TABLE`.
    ///
    /// # Errors
    /// [`MissingTableName`] naming the first variable that is unset or empty.
    pub fn from_env() -> Result<Self, MissingTableName> {
        Self::from_vars(|var| std::env::var(var).ok())
    }

    fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, MissingTableName> {
        let name = |var| get(var).filter(|v| !v.is_empty()).ok_or(MissingTableName { var });
        Ok(Self {
            catalog: name("CATALOG_TABLE")?,
            carts: name("CARTS_TABLE")?,
            orders: name("ORDERS_TABLE")?,
            idempotency: name("IDEMPOTENCY_TABLE")?,
        })
    }

    /// `{prefix}-catalog`, `{prefix}-carts`, …: fresh tables per test, or a local setup.
    pub fn with_prefix(prefix: &str) -> Self {
        let name = |table: Table| format!("{prefix}-{}", table.as_str());
        Self {
            catalog: name(Table::Catalog),
            carts: name(Table::Carts),
            orders: name(Table::Orders),
            idempotency: name(Table::Idempotency),
        }
    }

    pub fn name(&self, table: Table) -> &str {
        match table {
            Table::Catalog => &self.catalog,
            Table::Carts => &self.carts,
            Table::Orders => &self.orders,
            Table::Idempotency => &self.idempotency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_come_from_the_environment_or_a_prefix() {
        let vars = |missing: &str| {
            let missing = missing.to_owned();
            move |var: &str| (var != missing).then(|| var.to_lowercase())
        };
        let names = TableNames::from_vars(vars("NONE")).expect("all set");
        assert_eq!(names.name(Table::Idempotency), "idempotency_table");
        let err = TableNames::from_vars(vars("ORDERS_TABLE")).expect_err("one missing");
        assert_eq!(err.to_string(), "environment variable ORDERS_TABLE must name a DynamoDB table");
        assert_eq!(TableNames::with_prefix("t1").name(Table::Carts), "t1-carts");
    }
}
