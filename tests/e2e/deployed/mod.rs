//! The deployment, proven offline as far as real tools allow: `infra/template.yaml` transformed
//! by AWS's SAM translator and its conditions evaluated for every parameter set that changes
//! what it creates ([`stack`]), and the resources that leaves checked ([`transformed`]).

mod stack;
mod transformed;
