//! The physical names of the tables, from the environment or a prefix.

use crate::port::{Table, TableAccess};

/// The physical names of the tables a function uses. A table it does not use has no name (an
/// empty one): a call on it fails, as DynamoDB refuses the name (and in a deployment the
/// function's policy, granted from the same `ACCESS` list, refuses the call anyway).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Reads the name of each table `access` lists, and of no other: [`TableNames::variable`]
    /// of each, in [`Table::ALL`]'s order.
    ///
    /// # Errors
    /// [`MissingTableName`] naming the first variable that is unset or empty.
    pub fn from_env(access: &[TableAccess]) -> Result<Self, MissingTableName> {
        Self::from_vars(Self::tables_of(access), |var| std::env::var(var).ok())
    }

    fn from_vars(
        tables: impl IntoIterator<Item = Table>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, MissingTableName> {
        let mut names = Self::default();
        for table in tables {
            let var = Self::variable(table);
            let name = get(var).filter(|v| !v.is_empty()).ok_or(MissingTableName { var })?;
            match table {
                Table::Catalog => names.catalog = name,
                Table::Carts => names.carts = name,
                Table::Orders => names.orders = name,
                Table::Idempotency => names.idempotency = name,
            }
        }
        Ok(names)
    }

    /// The variable that names `table`: `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`,
    /// `IDEMPOTENCY_TABLE`.
    pub fn variable(table: Table) -> &'static str {
        match table {
            Table::Catalog => "CATALOG_TABLE",
            Table::Carts => "CARTS_TABLE",
            Table::Orders => "ORDERS_TABLE",
            Table::Idempotency => "IDEMPOTENCY_TABLE",
        }
    }

    /// The variables [`TableNames::from_env`] reads for `access`.
    pub fn variables(access: &[TableAccess]) -> Vec<&'static str> {
        Self::tables_of(access).map(Self::variable).collect()
    }

    /// The tables `access` lists, each once, in [`Table::ALL`]'s order.
    fn tables_of(access: &[TableAccess]) -> impl Iterator<Item = Table> + '_ {
        Table::ALL.into_iter().filter(|table| access.iter().any(|a| a.table == *table))
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
        let names = TableNames::from_vars(Table::ALL, vars("NONE")).expect("all set");
        assert_eq!(names.name(Table::Idempotency), "idempotency_table");
        let err = TableNames::from_vars(Table::ALL, vars("ORDERS_TABLE")).expect_err("one missing");
        assert_eq!(err.to_string(), "environment variable ORDERS_TABLE must name a DynamoDB table");
        // Only the tables a function uses are read: the others need no variable.
        let names = TableNames::from_vars([Table::Carts], vars("ORDERS_TABLE")).expect("carts only");
        assert_eq!((names.carts.as_str(), names.name(Table::Orders)), ("carts_table", ""));
        let access = [TableAccess { table: Table::Orders, actions: &[], index: false }];
        assert_eq!(TableNames::variables(&access), ["ORDERS_TABLE"]);
        assert_eq!(TableNames::with_prefix("t1").name(Table::Carts), "t1-carts");
    }
}
