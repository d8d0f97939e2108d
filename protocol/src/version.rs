//! Protocol version negotiation: the client offers a range, the broker picks the highest
//! version both speak, or refuses with the range it supports.

use serde::{Deserialize, Serialize};

/// The protocol version this build speaks best.
pub const PROTOCOL_VERSION: u16 = 1;

/// An inclusive range of protocol versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRange {
    /// Oldest version spoken.
    pub min: u16,
    /// Newest version spoken.
    pub max: u16,
}

impl VersionRange {
    /// The versions this build speaks.
    pub const CURRENT: VersionRange = VersionRange { min: 1, max: PROTOCOL_VERSION };
}

/// Why two ends found no common version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// The offered range is empty (`min > max`).
    #[error("offered protocol versions {min}..={max} are an empty range")]
    EmptyRange {
        /// Offered minimum.
        min: u16,
        /// Offered maximum.
        max: u16,
    },
    /// The ranges do not overlap.
    #[error(
        "protocol version {offered_min}..={offered_max} is not supported; this broker speaks {supported_min}..={supported_max}"
    )]
    NoOverlap {
        /// Offered minimum.
        offered_min: u16,
        /// Offered maximum.
        offered_max: u16,
        /// Supported minimum.
        supported_min: u16,
        /// Supported maximum.
        supported_max: u16,
    },
}

/// Picks the highest version in both `offered` and `supported`.
pub fn negotiate(offered: VersionRange, supported: VersionRange) -> Result<u16, VersionError> {
    if offered.min > offered.max {
        return Err(VersionError::EmptyRange { min: offered.min, max: offered.max });
    }
    let low = offered.min.max(supported.min);
    let high = offered.max.min(supported.max);
    if low > high {
        return Err(VersionError::NoOverlap {
            offered_min: offered.min,
            offered_max: offered.max,
            supported_min: supported.min,
            supported_max: supported.max,
        });
    }
    Ok(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(min: u16, max: u16) -> VersionRange {
        VersionRange { min, max }
    }

    #[test]
    fn picks_highest_common_version() {
        assert_eq!(negotiate(r(1, 5), r(2, 3)), Ok(3));
        assert_eq!(negotiate(r(1, 1), r(1, 4)), Ok(1));
    }

    #[test]
    fn refuses_disjoint_and_empty_ranges() {
        assert!(matches!(negotiate(r(5, 9), r(1, 4)), Err(VersionError::NoOverlap { .. })));
        assert!(matches!(negotiate(r(0, 0), r(1, 4)), Err(VersionError::NoOverlap { .. })));
        assert_eq!(negotiate(r(3, 2), r(1, 4)), Err(VersionError::EmptyRange { min: 3, max: 2 }));
    }
}
