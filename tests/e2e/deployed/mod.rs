//! The deployment, proven offline as far as real tools allow: `infra/template.yaml` transformed
//! by AWS's SAM translator and its conditions evaluated for every parameter set that changes
//! what it creates ([`stack`]), and the resources that leaves checked ([`transformed`]); the
//! stack created on the local services ([`provision`], [`aws`]) and every function binary
//! started on it as deployed, under the Lambda runtime and in a container ([`functions`],
//! [`started`]); the order-event path from the orders table's stream through the template's
//! filter ([`filter`]) and the relay to the bus and a subscriber's queue ([`events`]); sign-in with Cognito on moto, its tokens verified against the pool's
//! published keys ([`sign_in`]).

mod aws;
mod events;
mod filter;
mod functions;
mod provision;
mod sign_in;
mod stack;
mod started;
mod transformed;
