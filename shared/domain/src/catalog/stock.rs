//! Stock levels: units on hand and reserved for one SKU.

use serde::{Deserialize, Serialize};

use super::MAX_STOCK;

/// Stock of one SKU. `available = on_hand - reserved`; checkout reserves by moving units from
/// available to reserved, so available never goes below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StockLevel {
    pub on_hand: i64,
    pub reserved: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("on_hand must be between 0 and {MAX_STOCK}")]
    OutOfRange,
    #[error("on_hand cannot be below the {reserved} units reserved by unpaid orders")]
    BelowReserved { reserved: i64 },
}

impl StockLevel {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// Whether `on_hand` is a count of units any SKU may hold, whatever is reserved of it: what
    /// a request can be refused for before anything is read.
    ///
    /// # Errors
    /// [`StockError::OutOfRange`].
    pub fn check_on_hand(on_hand: i64) -> Result<(), StockError> {
        if (0..=MAX_STOCK).contains(&on_hand) { Ok(()) } else { Err(StockError::OutOfRange) }
    }

    /// This level with a new count of units on hand.
    ///
    /// # Errors
    /// A count out of range, or one that would leave reserved units without stock.
    pub fn with_on_hand(self, on_hand: i64) -> Result<Self, StockError> {
        Self::check_on_hand(on_hand)?;
        if on_hand < self.reserved {
            return Err(StockError::BelowReserved { reserved: self.reserved });
        }
        Ok(Self { on_hand, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_cannot_drop_below_what_is_reserved() {
        let level = StockLevel { on_hand: 10, reserved: 4 };
        assert_eq!(level.available(), 6);
        assert_eq!(level.with_on_hand(3), Err(StockError::BelowReserved { reserved: 4 }));
        assert_eq!(level.with_on_hand(-1), Err(StockError::OutOfRange));
        assert_eq!(level.with_on_hand(4).map(|l| l.available()), Ok(0));
    }
}
