#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod client_builder;
mod connector;

pub use client::Client;
pub use client_builder::ClientBuilder;
