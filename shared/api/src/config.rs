//! Reading configuration from the environment, the same way in every function.
//!
//! A function's configuration is one type deriving [`clap::Parser`], each field an argument with
//! an `env = "NAME"`: that one declaration is both how the variable is read ([`from_env`]) and
//! the list of what the binary reads ([`variables`]), which the deployment template is checked
//! against (`tests/e2e/infra/`). Shared pieces are arguments a configuration flattens
//! ([`AuthVariables`]), so their variables are in its list too. Only the environment is read,
//! never the command line, and the rules are ours, not clap's: a variable that is unset or blank
//! is missing, and a missing required one stops start-up with its name.

use std::ffi::OsString;

use anyhow::{Context, bail};
use clap::error::{ContextKind, ContextValue};
use nanoshop_store::dynamo::TableNames;
use nanoshop_store::port::TableAccess;

use crate::auth::{AuthConfig, DEFAULT_ADMIN_CLAIM, Verifier};

/// A configuration read from the environment: every argument of `C` that has an `env` name.
///
/// # Errors
/// `"{NAME} is not set"` for the first required variable that is unset or blank;
/// `"{NAME}: {why}"` for the first one that is set but does not parse, so a typo stops start-up
/// rather than quietly meaning the default.
pub fn from_env<C: clap::Parser>() -> anyhow::Result<C> {
    from_lookup(|name| std::env::var(name).ok())
}

/// The environment variables `C` reads, in declaration order.
pub fn variables<C: clap::CommandFactory>() -> Vec<String> {
    C::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

/// The environment variables a function binary reads: the names of the tables of its `access`
/// list ([`TableNames::from_env`]), then `C`'s.
pub fn function_variables<C: clap::CommandFactory>(access: &[TableAccess]) -> Vec<String> {
    let tables = TableNames::variables(access).into_iter().map(str::to_owned);
    tables.chain(variables::<C>()).collect()
}

/// [`from_env`] with `var` in place of the environment.
fn from_lookup<C: clap::Parser>(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<C> {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    // Each variable becomes `--long=value`, and clap's own reading of the environment is turned
    // off: clap would take a blank value for a given one.
    let command = C::command().no_binary_name(true).mut_args(|arg| arg.env(None::<&'static str>));
    let mut argv: Vec<OsString> = Vec::new();
    for arg in C::command().get_arguments() {
        let Some(name) = arg.get_env().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let long = arg.get_long().with_context(|| format!("{name}: its argument needs a `long` name"))?;
        match var(&name) {
            Some(value) => argv.push(format!("--{long}={value}").into()),
            None if arg.is_required_set() => bail!("{name} is not set"),
            None => {}
        }
    }
    let matches = command.try_get_matches_from(argv).map_err(|e| explain::<C>(&e))?;
    C::from_arg_matches(&matches).map_err(|e| explain::<C>(&e))
}

/// `"{NAME}: {why}"` for a value clap refused, naming the variable instead of the argument.
fn explain<C: clap::CommandFactory>(error: &clap::Error) -> anyhow::Error {
    let command = C::command();
    let refused = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => Some(arg.clone()),
        _ => None,
    };
    let name = refused.as_deref().and_then(|refused| {
        command.get_arguments().find_map(|arg| {
            let long = format!("--{}", arg.get_long()?);
            let named =
                refused == long || refused.starts_with(&format!("{long} ")) || refused.starts_with(&format!("{long}="));
            named.then(|| arg.get_env()).flatten().map(|n| n.to_string_lossy().into_owned())
        })
    });
    let why = std::error::Error::source(error).map_or_else(|| error.kind().to_string(), ToString::to_string);
    match name {
        Some(name) => anyhow::anyhow!("{name}: {why}"),
        None => anyhow::anyhow!("the configuration: {why}"),
    }
}

/// A value parser for secret values (it lives with the secrets, whose variables use it too).
pub use crate::secrets::variables::secret;

/// A value parser for switches: `true` is on, anything else off (so is unset).
///
/// # Errors
/// Never; the `Result` is what clap's value parsers return.
pub fn is_true(value: &str) -> Result<bool, std::convert::Infallible> {
    Ok(value == "true")
}

/// What [`Verifier`] is built from in a deployed function: the identity provider's settings.
/// A function that checks bearer tokens flattens this into its configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthVariables {
    /// `AUTH_ISSUER`: the required `iss` (for Cognito,
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`).
    #[arg(long, env = "AUTH_ISSUER")]
    pub auth_issuer: String,
    /// `AUTH_AUDIENCE`: the required `aud` (for Cognito ID tokens, the app client id).
    #[arg(long, env = "AUTH_AUDIENCE")]
    pub auth_audience: String,
    /// `AUTH_JWKS`: the JWKS document itself (a Cognito user pool's `.well-known/jwks.json`),
    /// for offline use. Unset (and no `AUTH_JWKS_FILE`): the keys are found by OpenID discovery
    /// from `AUTH_ISSUER`, and follow the provider's rotations.
    #[arg(long, env = "AUTH_JWKS")]
    pub auth_jwks: Option<String>,
    /// `AUTH_JWKS_FILE`: a path to the JWKS document instead (a container); not both.
    #[arg(long, env = "AUTH_JWKS_FILE")]
    pub auth_jwks_file: Option<String>,
    /// `AUTH_ADMIN_CLAIM`: the claim that lists a caller's groups (default
    /// [`DEFAULT_ADMIN_CLAIM`]).
    #[arg(long, env = "AUTH_ADMIN_CLAIM", default_value = DEFAULT_ADMIN_CLAIM)]
    pub auth_admin_claim: String,
}

impl AuthVariables {
    /// The verifier of the identity provider's tokens. There is deliberately no fallback to a
    /// local secret: locally signed tokens are only accepted by `nanoshop serve`.
    ///
    /// # Errors
    /// If both JWKS variables are set, the document is not a JWKS, the issuer to discover keys
    /// from is not an https URL, or [`Verifier::new`] refuses the configuration.
    pub fn verifier(&self) -> anyhow::Result<Verifier> {
        let config = AuthConfig::jwks_from(
            self.auth_issuer.clone(),
            self.auth_audience.clone(),
            self.auth_jwks.clone(),
            self.auth_jwks_file.clone(),
        )?;
        Verifier::new(config, self.auth_admin_claim.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::{ExposeSecret, SecretString};

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Example {
        /// A required name.
        #[arg(long, env = "EXAMPLE_NAME")]
        name: String,
        /// A number with a default.
        #[arg(long, env = "EXAMPLE_COUNT", default_value_t = 3)]
        count: u8,
        #[arg(long, env = "EXAMPLE_SECRET", value_parser = secret)]
        secret: Option<SecretString>,
        #[arg(long, env = "EXAMPLE_SWITCH", value_parser = is_true, action = clap::ArgAction::Set, default_value = "false")]
        switch: bool,
        #[command(flatten)]
        auth: AuthVariables,
    }

    fn read(vars: &[(&str, &str)]) -> anyhow::Result<Example> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        from_lookup(move |name| vars.get(name).cloned())
    }

    const AUTH: [(&str, &str); 2] = [("AUTH_ISSUER", "https://issuer"), ("AUTH_AUDIENCE", "app")];

    #[test]
    fn the_variables_are_the_declared_ones_flattened_pieces_included() {
        assert_eq!(
            variables::<Example>(),
            [
                "EXAMPLE_NAME",
                "EXAMPLE_COUNT",
                "EXAMPLE_SECRET",
                "EXAMPLE_SWITCH",
                "AUTH_ISSUER",
                "AUTH_AUDIENCE",
                "AUTH_JWKS",
                "AUTH_JWKS_FILE",
                "AUTH_ADMIN_CLAIM"
            ]
        );
    }

    #[test]
    fn values_are_read_parsed_and_defaulted() {
        let all =
            [&AUTH[..], &[("EXAMPLE_NAME", "n"), ("EXAMPLE_SECRET", "s3cret"), ("EXAMPLE_SWITCH", "true")]].concat();
        let example = read(&all).unwrap();
        assert_eq!((example.name.as_str(), example.count, example.switch), ("n", 3, true));
        assert_eq!(example.secret.as_ref().map(ExposeSecret::expose_secret), Some("s3cret"));
        assert_eq!(example.auth.auth_admin_claim, DEFAULT_ADMIN_CLAIM);
        assert!(!format!("{example:?}").contains("s3cret"), "a secret never shows in Debug");
        let example =
            read(&[&AUTH[..], &[("EXAMPLE_NAME", "n"), ("EXAMPLE_COUNT", "7"), ("EXAMPLE_SWITCH", "yes")]].concat());
        assert_eq!(example.map(|e| (e.count, e.switch)).unwrap(), (7, false));
    }

    #[test]
    fn a_missing_or_blank_required_variable_and_a_malformed_one_are_named() {
        let err = read(&AUTH).unwrap_err();
        assert_eq!(err.to_string(), "EXAMPLE_NAME is not set");
        let err = read(&[&AUTH[..], &[("EXAMPLE_NAME", "  ")]].concat()).unwrap_err();
        assert_eq!(err.to_string(), "EXAMPLE_NAME is not set");
        let err = read(&[("EXAMPLE_NAME", "n"), ("AUTH_ISSUER", "https://issuer")]).unwrap_err();
        assert_eq!(err.to_string(), "AUTH_AUDIENCE is not set");
        let err = read(&[&AUTH[..], &[("EXAMPLE_NAME", "n"), ("EXAMPLE_COUNT", "many")]].concat()).unwrap_err();
        assert_eq!(err.to_string(), "EXAMPLE_COUNT: invalid digit found in string");
        // Blank means unset, so the default, not a parse failure.
        let example = read(&[&AUTH[..], &[("EXAMPLE_NAME", "n"), ("EXAMPLE_COUNT", " ")]].concat());
        assert_eq!(example.unwrap().count, 3);
    }

    #[test]
    fn values_that_look_like_flags_are_values() {
        let example = read(&[&AUTH[..], &[("EXAMPLE_NAME", "--count=9")]].concat()).unwrap();
        assert_eq!((example.name.as_str(), example.count), ("--count=9", 3));
    }

    #[test]
    fn the_auth_variables_take_at_most_one_jwks_and_discover_without() {
        let named = |vars: &[(&str, &str)]| {
            read(&[&AUTH[..], &[("EXAMPLE_NAME", "n")], vars].concat())
                .unwrap()
                .auth
                .verifier()
                .unwrap_err()
                .to_string()
        };
        let discovered = read(&[&AUTH[..], &[("EXAMPLE_NAME", "n")]].concat()).unwrap().auth.verifier().unwrap();
        assert!(format!("{discovered:?}").contains("discovered"), "{discovered:?}");
        let both = named(&[("AUTH_JWKS", "{}"), ("AUTH_JWKS_FILE", "/jwks.json")]);
        assert!(both.contains("only one"), "{both}");
        let bad = named(&[("AUTH_JWKS", "{\"keys\": 1}")]);
        assert!(bad.contains("not a JWKS"), "{bad}");
    }
}
