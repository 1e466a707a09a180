//! Compliance: what each person owes and what closes the gap.
