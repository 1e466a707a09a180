//! Reading the CSV files that personnel offices and training platforms export.
