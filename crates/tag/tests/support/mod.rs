//! Shared by the quality test and the `keyphrases` example.
pub mod corpus;
pub mod kpeval;
pub mod metrics;
